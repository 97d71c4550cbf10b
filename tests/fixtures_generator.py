"""Fixtures for this area (filled in by its feature)."""
