"""spatial ops."""
