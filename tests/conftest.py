"""Shared fixtures. Feature-specific fixtures live in tests/fixtures_*.py."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
