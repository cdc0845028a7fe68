"""The pytest plugin that turns each case into a recorded result: outcome, spec, category, transcript.

Outcomes: ``passed``, ``failed``, ``not-supported`` (the case raised NotSupported), ``skipped`` (the
target gave nothing to test, e.g. no BOSH URL), ``expected-deviation`` (failed, and listed in the
target's deviations file) and ``unexpected-pass`` (listed there, yet passed: the entry can go).
"""

from __future__ import annotations

import asyncio
import inspect
import time
import tomllib
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from tigase_py.compat_tests import case, transcript
from tigase_py.compat_tests.results import CaseResult
from tigase_py.compat_tests.target import Target

SUITES = Path(__file__).parent / "suites"
DEVIATIONS = Path(__file__).parent / "deviations"
CASE_TIMEOUT = 30.0
TARGET_KEY = pytest.StashKey[Target]()


class DeviationError(ValueError):
    """A deviations file that cannot be read."""


def load_deviations(name_or_path: str | None) -> dict[str, dict[str, str]]:
    """``compat_tests/deviations/<name>.toml`` (or a path): ``{case id: {"section", "reason"}}``."""
    if not name_or_path:
        return {}
    path = Path(name_or_path)
    if not path.suffix:
        path = DEVIATIONS / f"{name_or_path}.toml"
        if not path.exists():
            return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeviationError(f"{path}: {exc}") from None
    for key, entry in data.items():
        if not isinstance(entry, dict) or not entry.get("section") or not entry.get("reason"):
            raise DeviationError(f"{path}: [{key!r}] needs a section and a reason")
    return data


def case_id(item: pytest.Item) -> str:
    """The case's stable id: its file relative to the suites folder, then ``::`` and its name."""
    try:
        relative = item.path.relative_to(SUITES).as_posix()
    except ValueError:
        relative = item.path.name
    return f"{relative}::{item.name}"


def spec_of(item: pytest.Item) -> tuple[str, str, list[str]]:
    marker = item.get_closest_marker("spec")
    if marker is None:
        return "", "", []
    name, section = marker.args[:2]
    return str(name), str(section), list(marker.kwargs.get("categories", ()))


class CompatPlugin:
    """Register one per run (``pytest.main(..., plugins=[CompatPlugin(target)])``); read ``results``."""

    def __init__(
        self,
        target: Target,
        deviations: dict[str, dict[str, str]] | None = None,
        on_collected: Callable[[int], None] | None = None,
        on_case: Callable[[CaseResult], None] | None = None,
        case_timeout: float = CASE_TIMEOUT,
    ) -> None:
        self.target = target
        self.deviations = load_deviations(target.deviations) if deviations is None else deviations
        self.on_collected = on_collected
        self.on_case = on_case
        self.case_timeout = case_timeout
        self.results: list[CaseResult] = []
        self.started = time.time()
        self._pending: dict[str, dict[str, Any]] = {}
        self._items: dict[str, pytest.Item] = {}

    # -- configuration and collection -------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "spec(name, section, categories): the specification a case checks")
        config.stash[TARGET_KEY] = self.target
        case.clear_cache()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        missing = [case_id(item) for item in items if item.get_closest_marker("spec") is None]
        if missing:
            raise pytest.UsageError(f"cases without @spec(...): {', '.join(missing)}")

    # -- running ----------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        transcript.reset()
        self._pending[item.nodeid] = {"outcome": "passed", "message": "", "duration": 0.0}

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        function = pyfuncitem.obj
        if not inspect.iscoroutinefunction(function):
            return None
        names = pyfuncitem._fixtureinfo.argnames
        kwargs = {name: pyfuncitem.funcargs[name] for name in names}
        asyncio.run(self._run(function, kwargs))
        return True

    async def _run(self, function: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        deadline = asyncio.timeout(self.case_timeout)
        try:
            async with deadline:
                await function(**kwargs)
        except TimeoutError:
            if deadline.expired():
                raise AssertionError(f"the case did not finish within {self.case_timeout:g}s") from None
            raise

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        state = self._pending.setdefault(item.nodeid, {"outcome": "passed", "message": "", "duration": 0.0})
        state["duration"] += report.duration
        if call.excinfo is not None and call.excinfo.errisinstance(case.NotSupported):
            state["outcome"], state["message"] = "not-supported", str(getattr(call.excinfo.value, "reason", ""))
        elif report.skipped and state["outcome"] == "passed":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            state["outcome"], state["message"] = "skipped", str(reason).removeprefix("Skipped: ")
        elif report.failed:
            message = call.excinfo.exconly() if call.excinfo is not None else report.longreprtext
            if report.when != "call":
                message = f"{report.when}: {message}"
            state["outcome"], state["message"] = "failed", message[:4000]
            deviation = self.deviations.get(case_id(item))
            if deviation is not None:
                state["outcome"] = "expected-deviation"
                state["message"] = f"expected deviation ({deviation['section']}): {deviation['reason']}\n{message}"
                report.outcome = "skipped"
                report.wasxfail = f"expected deviation: {deviation['reason']}"  # type: ignore[attr-defined]

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        state = self._pending.pop(nodeid, None)
        item = self._items.get(nodeid)
        if state is None or item is None:
            return
        ident = case_id(item)
        if state["outcome"] == "passed" and ident in self.deviations:
            state["outcome"] = "unexpected-pass"
            state["message"] = "listed as an expected deviation, yet passed: remove it from the deviations file"
        spec, section, categories = spec_of(item)
        keep = state["outcome"] not in ("passed", "unexpected-pass", "skipped")
        function = getattr(item, "function", None)
        result = CaseResult(
            id=ident,
            name=item.name,
            spec=spec,
            section=section,
            categories=categories,
            outcome=state["outcome"],
            duration=round(state["duration"], 4),
            message=state["message"],
            doc=(inspect.getdoc(function) or "") if function is not None else "",
            transcript=transcript.current().to_list() if keep else [],
        )
        self.results.append(result)
        if self.on_case is not None:
            self.on_case(result)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._items = {item.nodeid: item for item in session.items}
        if self.on_collected is not None:  # after --only / -k deselection: the cases that will run
            self.on_collected(len(session.items))
