"""Placeholder: filled by the engagement reward family."""
