"""Fixtures every case may take: ``target`` and ``accounts``.

Run through ``tigase-py compat run``, or directly:
``pytest -c compat_tests/pytest.ini compat_tests/suites --compat-target target.toml``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tigase_py.compat_tests import accounts as account_pool
from tigase_py.compat_tests.plugin import TARGET_KEY, CompatPlugin
from tigase_py.compat_tests.target import Account, Target, load_target


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--compat-target", type=Path, default=None, help="target TOML file")


def pytest_configure(config: pytest.Config) -> None:
    if any(isinstance(plugin, CompatPlugin) for plugin in config.pluginmanager.get_plugins()):
        return
    path = config.getoption("--compat-target")
    if path is None:
        raise pytest.UsageError("give the server to judge with --compat-target FILE (or use `tigase-py compat run`)")
    plugin = CompatPlugin(load_target(path))
    config.pluginmanager.register(plugin, "compat")
    plugin.pytest_configure(config)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The server under test."""
    return pytestconfig.stash[TARGET_KEY]


@pytest.fixture(scope="session")
def accounts(target: Target) -> list[Account]:
    """At least the target's given accounts; three when in-band registration is allowed."""
    return asyncio.run(account_pool.ensure_accounts(target))

