"""Placeholder: filled by the math reward family."""
