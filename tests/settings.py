"""Test settings: the real settings with a debug secret, so tests need no .env."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefgh"
)
# Without a broker server, each test run gets its own filesystem broker folder;
# the worker processes started by tests/fixtures_worker.py inherit it.
if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("CELERY_BROKER_DIR"):
    os.environ["CELERY_BROKER_DIR"] = tempfile.mkdtemp(prefix="copydesk-test-broker-")

from webapp.settings import *  # noqa: E402,F403

# Tests create many users; the production PBKDF2 hasher would dominate their time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
