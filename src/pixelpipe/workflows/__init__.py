"""Workflows: fixed, documented stage orders of catalogue ops with their own presets."""
