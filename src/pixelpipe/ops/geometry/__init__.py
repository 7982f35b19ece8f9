"""geometry ops."""
