"""The benchmark's phases: a pool of load-generator processes, a login wave, a chat run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.loadgen import Target, worker_main
from bench.local_server import profile_command
from bench.stats import CpuMeter, HostMeter, percentile
from tigase_py.compat_tests.load.processes import WorkerProcesses


class Pool(WorkerProcesses):
    def __init__(self, count: int, target: Target) -> None:
        super().__init__(count, worker_main, target)

    def call_each(self, commands: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        replies = [pipe.recv() for pipe in self.pipes]
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(f"worker failed: {reply['error']}")
        return replies

    def split(self, items: list[Any]) -> list[list[Any]]:
        n = len(self.pipes)
        return [items[i::n] for i in range(n)]

    def shutdown(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("exit",))
                pipe.recv()
            except (OSError, EOFError):
                pass
        self.reap()


def login(pool: Pool, pid: int, names: list[str], concurrency: int) -> dict[str, Any]:
    per_worker = max(1, concurrency // len(pool.pipes))
    meter, host = CpuMeter(pid), HostMeter()
    meter.start(time.perf_counter())
    host.start()
    start = time.perf_counter()
    replies = pool.call_each([("login", part, per_worker) for part in pool.split(names)])
    elapsed = time.perf_counter() - start
    ok = sum(r["ok"] for r in replies)
    return {
        "logins": len(names),
        "ok": ok,
        "failed": sum(r["failed"] for r in replies),
        "errors": [e for r in replies for e in r["errors"]][:10],
        "seconds": elapsed,
        "per_second": ok / elapsed if elapsed else float("nan"),
        "concurrency": per_worker * len(pool.pipes),
        "server_cpu_pct": meter.percent(time.perf_counter()),
        "generator_cpu_pct": 100.0 * sum(r["cpu"] for r in replies) / elapsed,
        "host_cpu_pct": host.percent(),
    }


def chat(
    pool: Pool,
    pid: int,
    pairs: int,
    window: int,
    warmup: float,
    duration: float,
    profile: Path | None,
    rate: float = 0.0,
) -> dict[str, Any]:
    """``rate`` > 0: open loop at that many msgs/s in total (``window`` still caps what is in flight)."""
    couples = [(f"u{2 * i}", f"u{2 * i + 1}") for i in range(pairs)]
    parts = pool.split(couples)
    per_worker = max(1, 32 // len(pool.pipes))
    replies = pool.call_each([("login", [n for c in part for n in c], per_worker) for part in parts])
    errors = [e for r in replies for e in r["errors"]]
    if errors:
        raise RuntimeError(f"chat logins failed: {errors}")
    for pipe, part in zip(pool.pipes, parts, strict=True):
        pipe.send(("chat", part, window, warmup, duration, rate / (2 * pairs)))
    time.sleep(warmup)
    meter, host = CpuMeter(pid), HostMeter()
    meter.start(time.perf_counter())
    host.start()
    spy = profile_command(pid, max(1, int(duration) - 1), profile) if profile else None
    time.sleep(duration)
    server_cpu = meter.percent(time.perf_counter())
    host_cpu = host.percent()
    replies = [pipe.recv() for pipe in pool.pipes]
    for reply in replies:
        if "error" in reply:
            raise RuntimeError(f"worker failed: {reply['error']}")
    profile_note = ""
    if spy is not None:
        _, err = spy.communicate(timeout=60)
        if spy.returncode:
            profile_note = err.decode(errors="replace")[-500:]
    pool.call_all("close")
    latencies = sorted(x for r in replies for x in r["latencies_ns"])
    counted = sum(r["counted"] for r in replies)
    return {
        "pairs": pairs,
        "rate": rate,
        "window_per_direction": window,
        "duration_s": duration,
        "delivered": counted,
        "msgs_per_s": counted / duration,
        "sent_total": sum(r["sent"] for r in replies),
        "received_total": sum(r["received"] for r in replies),
        "p50_ms": percentile(latencies, 0.50) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6,
        "max_ms": (latencies[-1] / 1e6) if latencies else float("nan"),
        "server_cpu_pct": server_cpu,
        "generator_cpu_pct": 100.0 * sum(r["cpu"] for r in replies) / duration,
        "host_cpu_pct": host_cpu,
        "closed_sessions": sum(r["closed_sessions"] for r in replies),
        "closures": [c for r in replies for c in r["closures"]][:5],
        "profile_error": profile_note,
    }
