"""Readers for external instance formats (OR-Library)."""
