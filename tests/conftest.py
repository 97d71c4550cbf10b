"""Fixtures live in tests/fixtures_*.py, one module per area."""

pytest_plugins = [
    "tests.fixtures_accounts",
    "tests.fixtures_content",
    "tests.fixtures_generator",
    "tests.fixtures_worker",
    "tests.fixtures_browser",
    "tests.fixtures_training",
]
