"""The lifecycle starts named steps in order, stops them in reverse, and undoes a failed start."""

from __future__ import annotations

import logging

import pytest

from tigase_py.server.core.lifecycle import Lifecycle, StartupFailed, Step, StepFailed


class Journal:
    def __init__(self) -> None:
        self.entries: list[str] = []

    def step(self, name: str, fail: BaseException | None = None, fail_stop: bool = False) -> Step:
        async def start() -> None:
            if fail is not None:
                raise fail
            self.entries.append(f"start {name}")

        async def stop() -> None:
            self.entries.append(f"stop {name}")
            if fail_stop:
                raise RuntimeError(f"{name} would not stop")

        return Step(name, start, stop)


async def test_steps_start_in_order_and_stop_in_reverse() -> None:
    journal = Journal()
    lifecycle = Lifecycle([journal.step("storage"), journal.step("modules"), journal.step("listeners")])
    await lifecycle.start()
    await lifecycle.stop()
    assert journal.entries == [
        "start storage",
        "start modules",
        "start listeners",
        "stop listeners",
        "stop modules",
        "stop storage",
    ]


async def test_a_failing_middle_step_stops_the_earlier_ones_and_logs_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal = Journal()
    lifecycle = Lifecycle(
        [
            journal.step("storage"),
            journal.step("modules"),
            journal.step("listeners", fail=StepFailed("cannot listen on 127.0.0.1:5222: Address already in use")),
            journal.step("http"),
        ]
    )
    with caplog.at_level(logging.DEBUG, "tigase_py.lifecycle"), pytest.raises(StartupFailed) as failed:
        await lifecycle.start()
    assert (failed.value.step, failed.value.reason) == (
        "listeners",
        "cannot listen on 127.0.0.1:5222: Address already in use",
    )
    assert journal.entries == ["start storage", "start modules", "stop modules", "stop storage"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "startup failed at listeners: cannot listen on 127.0.0.1:5222: Address already in use"
    ]
    assert errors[0].exc_info is None
    await lifecycle.stop()  # nothing is left to stop twice
    assert journal.entries[-1] == "stop storage"


async def test_an_unexpected_error_is_raised_after_the_undo() -> None:
    journal = Journal()
    lifecycle = Lifecycle([journal.step("storage"), journal.step("core", fail=KeyError("bug"))])
    with pytest.raises(KeyError):
        await lifecycle.start()
    assert journal.entries == ["start storage", "stop storage"]


async def test_a_failing_stop_does_not_skip_the_others(caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal()
    lifecycle = Lifecycle([journal.step("storage"), journal.step("modules", fail_stop=True), journal.step("http")])
    await lifecycle.start()
    await lifecycle.stop()
    assert journal.entries[3:] == ["stop http", "stop modules", "stop storage"]
    assert "stop failed at modules" in caplog.text


def test_step_names_are_unique() -> None:
    journal = Journal()
    with pytest.raises(ValueError):
        Lifecycle([journal.step("storage"), journal.step("storage")])
