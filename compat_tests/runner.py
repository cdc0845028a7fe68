"""Run the suite against one target in this process and return the result document."""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tigase_py.compat_tests import results
from tigase_py.compat_tests.plugin import SUITES, CompatPlugin
from tigase_py.compat_tests.results import CaseResult
from tigase_py.compat_tests.target import Target

INI = Path(__file__).parent / "pytest.ini"


class Unreachable(Exception):
    """Nothing answers at the target's host and port."""


def check_reachable(target: Target, timeout: float = 5.0) -> None:
    """Open (and close) a TCP connection to the target; Unreachable if that fails."""
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            pass
    except (OSError, ssl.SSLError) as exc:
        raise Unreachable(f"cannot connect to {target.host}:{target.port}: {exc}") from None


class LoginRefused(Exception):
    """An account of the target cannot log in: the run would only repeat that failure case after case."""


LOGIN_HINTS = {"not-authorized": "wrong password or no such account"}


def check_login(target: Target, timeout: float = 20.0) -> None:
    """Log in once with every given account (and the admin) before the run; LoginRefused names the first
    that fails. Skipped when the suite registers its accounts itself (``register``)."""
    import asyncio

    from tigase_py.compat_tests import client

    accounts = [] if target.register else [*target.accounts, *([target.admin] if target.admin else [])]

    async def attempt(account: Any) -> None:
        async with client.logged_in(target, account, who="preflight"):
            pass

    for account in accounts:
        try:
            asyncio.run(asyncio.wait_for(attempt(account), timeout))
        except client.SaslFailure as exc:
            hint = LOGIN_HINTS.get(exc.condition)
            raise LoginRefused(f"login as {account.jid} refused: {exc}" + (f" ({hint})" if hint else "")) from None
        except TimeoutError:
            raise LoginRefused(f"login as {account.jid} did not finish within {timeout:.0f} s") from None
        except (OSError, client.StreamClosed) as exc:
            raise LoginRefused(f"login as {account.jid} failed: {exc}") from None


class _Only:
    """Deselect cases whose spec is not one of ``names`` (``XEP-0198``, ``xep0198``, ``RFC6120``)."""

    def __init__(self, names: list[str]) -> None:
        self.names = {normalise(name) for name in names}

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            marker = item.get_closest_marker("spec")
            (keep if marker is not None and normalise(str(marker.args[0])) in self.names else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def normalise(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


def run(
    target: Target,
    only: list[str] | None = None,
    keyword: str | None = None,
    on_collected: Callable[[int], None] | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
    deviations: dict[str, dict[str, str]] | None = None,
) -> tuple[dict[str, Any], int]:
    """Run the suite; return (result document, pytest exit code)."""
    plugin = CompatPlugin(target, deviations, on_collected=on_collected, on_case=on_case)
    plugins: list[object] = [plugin]
    if only:
        plugins.insert(0, _Only(only))
    args = ["-c", str(INI), "--rootdir", str(SUITES), str(SUITES), "-p", "no:terminal"]
    if keyword:
        args += ["-k", keyword]
    started = time.time()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        code = pytest.main(args, plugins=plugins)
    duration = time.time() - started
    if int(code) in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the suite (exit {int(code)}):\n{sink.getvalue()[-4000:]}")
    return results.document(target.to_dict(), plugin.results, started, duration), int(code)
