"""A generator process: holds sessions on one event loop (uvloop when present) and runs commands.

The coordinator (:mod:`.engine`) sends tuples ``(command, *args)`` over a ``multiprocessing`` pipe.
While a command runs the worker sends ``("tick", sample)`` once a second (deltas since the last tick,
second index counted from the phase start); each command ends with one ``("done", reply)``.
``("stop",)`` may arrive during ``run`` and ends the traffic early.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from tigase_py.compat_tests.load import client, setup, traffic
from tigase_py.compat_tests.load.client import Counters, Session, tls_context
from tigase_py.compat_tests.load.results import LATENCY_BUCKETS_MS
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario

LOGIN_TIMEOUT = 30.0
MAX_SAMPLES = 200_000


class Worker:
    def __init__(self, conn: Connection, target: LoadTarget) -> None:
        self.conn = conn
        self.target = target
        self.context = tls_context(target.verify_tls) if target.tls != "plain" else None
        self.sessions: dict[int, Session] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.counters = Counters()
        self.t0 = time.monotonic_ns()
        self.stop = asyncio.Event()
        self._last = (0, 0, 0, 0, 0)
        self._seen = 0  # latencies already reported in a tick

    # -- ticks ------------------------------------------------------------------------------------------
    def tick(self) -> None:
        c = self.counters
        now = (c.sent, c.delivered, c.errors, c.logins, c.measured_delivered)
        delta = [a - b for a, b in zip(now, self._last, strict=True)]
        self._last = now
        second = int((time.monotonic_ns() - self.t0) // 1_000_000_000)
        latencies = c.latencies_ns
        fresh, self._seen = latencies[self._seen :], len(latencies)
        histogram = Counter(bisect.bisect_left(LATENCY_BUCKETS_MS, x / 1e6) for x in fresh)
        sample = {
            "t": second,
            "histogram": sorted(histogram.items()),
            "sessions": self.online(),
            "sent": delta[0],
            "delivered": delta[1],
            "errors": delta[2],
            "logins": delta[3],
            "measured": delta[4],
        }
        self.conn.send(("tick", sample))

    async def ticker(self) -> None:
        while True:
            elapsed = (time.monotonic_ns() - self.t0) / 1e9
            await asyncio.sleep(1.0 - elapsed % 1.0)
            self.tick()

    def online(self) -> int:
        return sum(1 for s in self.sessions.values() if s.closed is None)

    # -- commands ---------------------------------------------------------------------------------------
    async def phase(self, t0: int) -> dict[str, Any]:
        """Start a phase: second 0 is at monotonic ``t0`` (shared by all workers); counters restart."""
        self.t0 = t0
        self.counters = Counters()
        self._last = (0, 0, 0, 0, 0)
        self._seen = 0  # latencies already reported in a tick
        self.stop = asyncio.Event()
        return {}

    async def login(self, indices: list[int], concurrency: int, ramp_up: float, timed: bool = False) -> dict[str, Any]:
        """Log ``indices`` in; with ``timed`` each login's duration (connect → bound) is a latency sample."""
        gate = asyncio.Semaphore(max(1, concurrency))
        counters = self.counters
        loop = asyncio.get_running_loop()
        begin = loop.time()
        spacing = ramp_up / len(indices) if indices and ramp_up > 0 else 0.0

        async def one(position: int, n: int) -> None:
            if spacing:
                await asyncio.sleep(max(0.0, begin + position * spacing - loop.time()))
            async with gate:
                if self.stop.is_set():
                    return
                began = time.monotonic_ns()
                try:
                    session = await asyncio.wait_for(
                        Session.login(self.target, self.target.username(n), "load", self.context), LOGIN_TIMEOUT
                    )
                except Exception as exc:
                    counters.error(f"login {self.target.username(n)}: {client.describe(exc)}")
                    return
                if timed:
                    counters.latencies_ns.append(time.monotonic_ns() - began)
            self.sessions[n] = session
            counters.logins += 1
            self.readers.append(asyncio.create_task(session.read_loop(self.counters)))

        start = time.perf_counter()
        await asyncio.gather(*(one(i, n) for i, n in enumerate(indices)))
        return {"ok": counters.logins, "failed": len(indices) - counters.logins,
                "elapsed": time.perf_counter() - start, "errors": counters.error_messages[:10],
                "latencies_ms": [x / 1e6 for x in counters.latencies_ns[:MAX_SAMPLES]] if timed else []}  # fmt: skip

    async def probe(self, feature: str) -> dict[str, Any]:
        """The JID of a service offering ``feature`` (disco#items + disco#info), via any session."""
        session = next(iter(self.sessions.values()), None)
        if session is None:
            return {"service": None, "why": "no session"}
        return {"service": await setup.find_service(session, feature)}

    async def prepare(self, scenario: Scenario, plan: dict[str, Any], step: int) -> dict[str, Any]:
        """Kind-specific setup (subscriptions, rooms, nodes); ``step`` orders cross-worker dependencies."""
        outcome = await setup.prepare(self.sessions, scenario, plan, step)
        return {"refused": outcome.refused[:5], "expected": outcome.expected, "confirmed": outcome.confirmed}

    async def run(self, scenario: Scenario, plan: dict[str, Any]) -> dict[str, Any]:
        counters = self.counters
        counters.errors, counters.error_messages = 0, []
        self._last = (counters.sent, counters.delivered, 0, counters.logins, counters.measured_delivered)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        measured = await traffic.run(self.sessions, counters, scenario, plan, self.stop)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        latencies = counters.latencies_ns
        if len(latencies) > MAX_SAMPLES:  # an even subsample keeps the percentiles and the pipe small
            latencies = latencies[:: len(latencies) // MAX_SAMPLES + 1]
        return {
            "measured_s": measured,
            "cpu_s": cpu,
            "wall_s": wall,
            "sent": counters.measured_sent,
            "delivered": counters.measured_delivered,
            "errors": counters.errors,
            "latencies_ms": [x / 1e6 for x in latencies],
            "error_messages": counters.error_messages[:10],
            "closed": len(self.sessions) - self.online(),
        }

    async def close(self) -> dict[str, Any]:
        sessions, self.sessions = list(self.sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions))
        for task in self.readers:
            task.cancel()
        for task in self.readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.readers = []
        return {"closed": len(sessions)}


async def _serve(conn: Connection, target: LoadTarget) -> None:
    worker = Worker(conn, target)
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def read_commands() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = ("exit",)
            loop.call_soon_threadsafe(commands.put_nowait, message)
            if message[0] == "exit":
                return

    reader = loop.run_in_executor(None, read_commands)
    ticker = asyncio.create_task(worker.ticker())
    current: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            command, *args = await commands.get()
            if command == "stop":
                worker.stop.set()
                continue
            if command == "exit":
                break
            current = asyncio.create_task(getattr(worker, command)(*args))
            # Commands run one at a time, but "stop" and "exit" must reach a running one.
            exiting = False
            while not current.done():
                getter = asyncio.ensure_future(commands.get())
                done, _ = await asyncio.wait({current, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    continue
                message = getter.result()
                if message[0] == "stop":
                    worker.stop.set()
                elif message[0] == "exit":  # the coordinator is going away (Ctrl-C, an error elsewhere)
                    exiting = True
                    worker.stop.set()
                    current.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await current
                else:  # not sent while a command runs; keep it for afterwards
                    commands.put_nowait(message)
                    with contextlib.suppress(Exception):
                        await current
            if exiting:
                break
            try:
                reply = current.result()
            except Exception as exc:
                reply = {"error": repr(exc)}
            worker.tick()
            conn.send(("done", reply))
    finally:
        ticker.cancel()
        await worker.close()
        conn.send(("done", {"bye": True}))
        await reader


def worker_main(conn: Connection, target: LoadTarget) -> None:
    """Process entry point: raise the open-files limit, then serve commands on uvloop if available."""
    import resource
    import signal

    # Ctrl-C reaches the whole process group: the coordinator stops the workers, they must not die first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(conn, target))
    else:
        uvloop.run(_serve(conn, target))
