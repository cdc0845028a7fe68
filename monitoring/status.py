"""Run the selected probes concurrently, each bounded by a timeout, and fold them into one verdict.

Verdict and exit code (the same for a cron job or a Nagios-style check):

- ``healthy`` (0): every probe answered and nothing is wrong;
- ``unhealthy`` (1): a probe answered but something is wrong (storage down, open files above 90 %
  of the limit, heap above 90 % of its maximum), credentials were refused, a probe answered
  something unusable, or, with several channels, some but not all were unreachable;
- ``unreachable`` (3): no probe reached its target (down, firewalled, or, for SNMP, a wrong
  community/user, which gets no reply at all).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tigase_py.monitoring import model

State = Literal["healthy", "unhealthy", "unreachable"]
EXIT_CODES: dict[State, int] = {"healthy": 0, "unhealthy": 1, "unreachable": 3}
FD_RATIO = 0.9
HEAP_RATIO = 0.9
BACKSTOP_GRACE = 5.0  # seconds a probe may overrun its own timeout before it is cancelled
Probe = Callable[[], Awaitable[model.ProbeResult]]


@dataclass(slots=True)
class Verdict:
    state: State
    problems: list[str]
    results: list[model.ProbeResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.state]

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "exit_code": self.exit_code,
            "problems": self.problems,
            "probes": [result.to_json() for result in self.results],
        }


def problems_of(result: model.ProbeResult) -> list[str]:
    """What is wrong with a target that answered."""
    found: list[str] = []
    if result.storage_up is False:
        found.append(f"{result.probe}: storage is down")
    if result.fd_exhausted:
        limit = f" ({result.open_files_limit})" if result.open_files_limit else ""
        found.append(
            f"{result.probe}: too many open files: the server refuses connections at its open-files limit{limit}"
        )
    elif result.open_files is not None and result.open_files_limit:
        if result.open_files > FD_RATIO * result.open_files_limit:
            found.append(
                f"{result.probe}: {result.open_files} open files, above {FD_RATIO:.0%} of the limit "
                f"{result.open_files_limit}"
            )
    if result.heap_used_bytes is not None and result.heap_max_bytes:
        if result.heap_used_bytes > HEAP_RATIO * result.heap_max_bytes:
            found.append(f"{result.probe}: heap above {HEAP_RATIO:.0%} of its maximum")
    return found


def fold(results: list[model.ProbeResult]) -> Verdict:
    problems: list[str] = []
    for result in results:
        problems.extend([result.error or f"{result.probe}: failed"] if not result.ok else problems_of(result))
    if results and all(r.failure == "unreachable" for r in results):
        return Verdict("unreachable", problems, results)
    return Verdict("unhealthy" if problems or not results else "healthy", problems, results)


async def _run_one(name: str, target: str, probe: Probe, timeout: float, grace: float) -> model.ProbeResult:
    start = time.perf_counter()
    try:
        # Each probe bounds its own I/O; this outer bound is the backstop.
        return await asyncio.wait_for(probe(), timeout + grace)
    except model.ProbeFailure as exc:
        return model.failed(target, name, (time.perf_counter() - start) * 1000, exc)
    except TimeoutError:
        failure = model.ProbeFailure("unreachable", f"{name}: no answer from {target} within {timeout:g} s")
        return model.failed(target, name, (time.perf_counter() - start) * 1000, failure)


async def run(
    probes: Mapping[str, tuple[str, Probe]], timeout: float, grace: float = BACKSTOP_GRACE
) -> list[model.ProbeResult]:
    """``probes``: channel name → (target description, probe). Results come back in the same order."""
    tasks = [_run_one(name, target, probe, timeout, grace) for name, (target, probe) in probes.items()]
    return list(await asyncio.gather(*tasks))


def with_rates(current: list[model.ProbeResult], previous: list[model.ProbeResult] | None) -> list[model.ProbeResult]:
    """Replace the since-start message average by the rate between two samples of the same channel."""
    if not previous:
        return current
    before = {(r.probe, r.target): r for r in previous}
    for result in current:
        old = before.get((result.probe, result.target))
        if old is None or old.messages_total is None or result.messages_total is None:
            continue
        if result.uptime_seconds is not None and old.uptime_seconds is not None:
            elapsed = result.uptime_seconds - old.uptime_seconds
            if elapsed > 0 and result.messages_total >= old.messages_total:
                result.messages_per_second = (result.messages_total - old.messages_total) / elapsed
    return current
