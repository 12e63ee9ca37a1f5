"""Readers: external instance formats (OR-Library) and the JSON files qzopt writes."""
