"""Test settings: the real settings with a debug secret, so tests need no .env."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")

from webapp.settings import *  # noqa: E402,F403
