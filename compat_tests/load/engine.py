"""Runs scenarios: spreads the sessions over worker processes, gathers their per-second reports.

One phase goes: reachability check → spawn workers → log in (ramp-up, concurrency) → for MUC/PubSub
find the service by disco (none: ``status="not-supported"``) → setup steps → traffic (warm-up +
duration, or until ``max_count`` deliveries) → close. Memory comes from ``/proc/<server_pid>/status``.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from tigase_py.compat_tests.load import memory, plans
from tigase_py.compat_tests.load.processes import WorkerProcesses
from tigase_py.compat_tests.load.results import (
    Latency,
    LoadResult,
    MemorySample,
    SecondSample,
    histogram_percentile,
)
from tigase_py.compat_tests.load.scenario import LoadTarget, Mix, Scenario
from tigase_py.compat_tests.load.worker import worker_main

Progress = Callable[[SecondSample], None]
SETUP_STEPS = {"presence-storm": 2, "muc-fanout": 2, "pubsub-fanout": 2}
SERVICE_FEATURE = {"muc-fanout": "http://jabber.org/protocol/muc", "pubsub-fanout": "http://jabber.org/protocol/pubsub"}
CONNECT_TIMEOUT = 5.0


class LoadError(RuntimeError):
    """The run could not happen at all (every login refused, a worker died)."""


class Unreachable(LoadError):
    """Nothing answers at the target's host and port."""


def check_reachable(target: LoadTarget) -> None:
    try:
        with socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT):
            return
    except OSError as exc:
        raise Unreachable(f"cannot connect to {target.host}:{target.port}: {exc.strerror or exc}") from None


class Series:
    """Per-second samples from all workers; emits a second once every worker has reported past it."""

    def __init__(self, workers: int, progress: Progress | None, target: LoadTarget, baseline: int | None) -> None:
        self.workers = workers
        self.progress = progress
        self.target = target
        self.baseline = baseline
        self.samples: dict[int, SecondSample] = {}
        self.levels: dict[int, dict[int, int]] = {}
        self.latest = [-1] * workers
        self.emitted = -1
        self.memory: list[MemorySample] = []
        self.histograms: dict[int, dict[int, int]] = {}
        self.measured_total = 0

    def add(self, worker: int, tick: dict[str, Any]) -> None:
        t = int(tick["t"])
        sample = self.samples.setdefault(t, SecondSample(t))
        for key in ("sent", "delivered", "errors", "logins"):
            setattr(sample, key, getattr(sample, key) + int(tick[key]))
        self.levels.setdefault(t, {})[worker] = int(tick["sessions"])
        merged = self.histograms.setdefault(t, {})
        for index, count in tick.get("histogram", []):
            merged[index] = merged.get(index, 0) + count
        self.latest[worker] = max(self.latest[worker], t)
        self.measured_total += int(tick.get("measured", 0))
        self.flush(min(self.latest) - 1)

    def measured(self) -> int:
        """Deliveries inside the measured window so far (what ``max_count`` bounds)."""
        return self.measured_total

    def flush(self, upto: int) -> None:
        level = {w: 0 for w in range(self.workers)}
        if self.emitted >= 0:
            level.update(self.levels.get(self.emitted, {}))
        for t in range(self.emitted + 1, upto + 1):
            level.update(self.levels.get(t, {}))
            sample = self.samples.setdefault(t, SecondSample(t))
            sample.sessions = sum(level.values())
            counts = self.histograms.pop(t, {})
            sample.p50_ms = histogram_percentile(counts, 0.50)
            sample.p99_ms = histogram_percentile(counts, 0.99)
            self.levels[t] = dict(level)
            self.emitted = t
            self._sample_memory(sample)
            if self.progress is not None:
                self.progress(sample)

    def _sample_memory(self, sample: SecondSample) -> None:
        found = memory.rss_kib(self.target.server_pid, self.target.metrics_url)
        if found is None:
            return
        rss, source = found
        per = (rss - self.baseline) / sample.sessions if self.baseline is not None and sample.sessions else math.nan
        self.memory.append(MemorySample(float(sample.t), sample.sessions, rss, per, source))

    def finish(self) -> list[SecondSample]:
        self.flush(max(self.samples, default=-1))
        return [self.samples[t] for t in sorted(self.samples)]


class Pool(WorkerProcesses):
    """Worker processes over pipes; every call pumps ticks into the series until all answered."""

    def __init__(self, count: int, target: LoadTarget) -> None:
        super().__init__(count, worker_main, target)
        self.series: Series | None = None

    def call_each(
        self, commands: Sequence[tuple[Any, ...]], stop_when: Callable[[], bool] | None = None
    ) -> list[dict[str, Any]]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        replies: dict[int, dict[str, Any]] = {}
        stopped = False
        while len(replies) < len(self.pipes):
            for ready in wait([p for i, p in enumerate(self.pipes) if i not in replies], timeout=0.5):
                assert isinstance(ready, Connection)
                index = self.pipes.index(ready)
                try:
                    kind, payload = ready.recv()
                except (EOFError, OSError):
                    raise LoadError(f"load worker {index} died") from None
                if kind == "tick":
                    if self.series is not None:
                        self.series.add(index, payload)
                elif "error" in payload:
                    raise LoadError(f"load worker {index} failed: {payload['error']}")
                else:
                    replies[index] = payload
            if not stopped and stop_when is not None and stop_when():
                stopped = True
                for i, pipe in enumerate(self.pipes):
                    if i not in replies:
                        pipe.send(("stop",))
        return [replies[i] for i in range(len(self.pipes))]

    def shutdown(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("exit",))
                while pipe.poll(10):
                    kind, _ = pipe.recv()
                    if kind == "done":
                        break
            except (OSError, EOFError):
                pass
        self.reap()


def generator_info(workers: int) -> dict[str, Any]:
    from importlib import metadata

    try:
        version = metadata.version("tigase-py")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "workers": workers, "version": version}  # fmt: skip


def run_scenario(
    target: LoadTarget, scenario: Scenario, *, workers: int = 1, progress: Progress | None = None
) -> LoadResult:
    """Run one phase with ``workers`` generator processes and return its result.

    ``progress`` is called in the calling process once per second with the aggregated sample of that
    second (sessions online, sent, delivered, errors). Raises :class:`Unreachable` when nothing listens
    at the target, :class:`LoadError` when no session could log in. A kind the server does not offer
    (MUC / PubSub missing from disco) gives a result with ``status="not-supported"``.
    """
    check_reachable(target)
    workers = max(1, min(workers, scenario.session_count))
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    measured = memory.rss_kib(target.server_pid, target.metrics_url)
    baseline = measured[0] if measured is not None else None
    result = LoadResult(engine="tigase-py", scenario=scenario.to_dict(), target=target.to_dict(), started=started,
                        generator=generator_info(workers), baseline_rss_kib=baseline)  # fmt: skip
    pool = Pool(workers, target)
    begin = time.monotonic()
    try:
        pool.series = series = Series(workers, progress, target, baseline)
        pool.call_all("phase", time.monotonic_ns())
        parts = plans.split_accounts(scenario, workers)
        login_deadline = begin + scenario.ramp_up + scenario.duration + 60.0
        if scenario.kind == "login-storm":
            login_deadline = begin + scenario.duration
        storm = scenario.kind == "login-storm"  # its latency is each login's connect → bound time
        login_start = time.monotonic()
        logins = pool.call_each(
            [("login", part, max(1, scenario.login_concurrency // workers), scenario.ramp_up, storm) for part in parts],
            stop_when=lambda: time.monotonic() > login_deadline,
        )
        result.login_s = time.monotonic() - login_start
        result.sessions_ok = sum(r["ok"] for r in logins)
        result.sessions_failed = sum(r["failed"] for r in logins)
        messages = [e for r in logins for e in r["errors"]]
        result.error_messages = messages[:10]
        if result.sessions_ok == 0:
            first = messages[0] if messages else "no account to log in"
            raise LoadError(f"no session could log in ({first})")
        if storm:
            result.latency = Latency.from_samples(x for r in logins for x in r["latencies_ms"])
        else:
            _traffic(pool, target, scenario, result)
        pool.call_all("close")
        result.series = series.finish()
        result.memory = series.memory
        result.errors = sum(s.errors for s in result.series)  # failed logins, error stanzas
    finally:
        result.elapsed_s = time.monotonic() - begin
        pool.shutdown()
    return result


def _traffic(pool: Pool, target: LoadTarget, scenario: Scenario, result: LoadResult) -> None:
    service = None
    feature = SERVICE_FEATURE.get(scenario.kind)
    if feature is not None:
        service = _probe(pool, feature)
        if service is None:
            result.status = "not-supported"
            result.note = f"the server offers no {feature.rsplit('/', 1)[-1].upper()} service in disco#items"
            return
    plan = plans.build(scenario, target, service, secrets.token_hex(3))
    for step in range(SETUP_STEPS.get(scenario.kind, 0)):
        replies = pool.call_all("prepare", scenario, plan, step)
        refused = [r for reply in replies for r in reply["refused"]]
        expected, confirmed = sum(r["expected"] for r in replies), sum(r["confirmed"] for r in replies)
        if confirmed < expected:
            result.note = f"only {confirmed} of {expected} roster subscriptions were confirmed before the traffic"
        if refused:
            result.status = "not-supported"
            what = "room" if scenario.kind == "muc-fanout" else "node"
            result.note = f"{service} refused the {what} setup ({', '.join(sorted(set(refused)))})"
            return
    series = pool.series
    assert series is not None
    before = series.measured()

    def enough() -> bool:
        return scenario.max_count > 0 and series.measured() - before >= scenario.max_count

    replies = pool.call_each([("run", scenario, plan)] * len(pool.pipes), stop_when=enough)
    result.sent = sum(r["sent"] for r in replies)
    result.delivered = sum(r["delivered"] for r in replies)
    result.measured_s = min(scenario.duration, max(0.0, _measured(replies, scenario)))
    result.latency = Latency.from_samples(x for r in replies for x in r["latencies_ms"])
    wall = max(r["wall_s"] for r in replies)
    # 100 = one core busy; near 100 x workers the generator, not the server, sets the pace.
    result.generator["cpu_percent"] = round(100.0 * sum(r["cpu_s"] for r in replies) / wall, 1) if wall else None
    result.error_messages += [e for r in replies for e in r["error_messages"]][: 10 - len(result.error_messages)]


def _probe(pool: Pool, feature: str) -> str | None:
    """Ask worker 0 (the others idle) which service offers ``feature``."""
    pool.pipes[0].send(("probe", feature))
    while True:
        kind, payload = pool.pipes[0].recv()
        if kind == "tick" and pool.series is not None:
            pool.series.add(0, payload)
        elif kind == "done":
            if "error" in payload:
                raise LoadError(f"service discovery failed: {payload['error']}")
            return payload.get("service")


def _measured(replies: list[dict[str, Any]], scenario: Scenario) -> float:
    return min(float(r.get("measured_s", scenario.duration)) for r in replies)


async def run_scenario_async(
    target: LoadTarget, scenario: Scenario, *, workers: int = 1, progress: Progress | None = None
) -> LoadResult:
    """:func:`run_scenario` from inside an event loop (it runs in a thread; ``progress`` is called there)."""
    import asyncio

    return await asyncio.to_thread(run_scenario, target, scenario, workers=workers, progress=progress)


def run_mix(
    target: LoadTarget, mix: Mix | Sequence[Scenario], *, workers: int = 1, progress: Progress | None = None
) -> list[LoadResult]:
    """The phases of ``mix`` one after the other (each with fresh sessions)."""
    phases = mix.phases if isinstance(mix, Mix) else tuple(mix)
    return [run_scenario(target, phase, workers=workers, progress=progress) for phase in phases]
