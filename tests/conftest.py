"""Shared pytest configuration for the tigase-py test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import helpers

# Storage fixtures (SQLite and MariaDB) live in their own plugin module; load it once it exists.
if Path(__file__).with_name("storage_fixtures.py").exists():
    pytest_plugins = ["tests.storage_fixtures"]


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free when the test started."""
    return helpers.free_port()
