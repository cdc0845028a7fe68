"""Load-generator worker process: holds sessions and drives chat pairs on a uvloop event loop.

The orchestrator (``bench/run.py``) talks to each worker over a ``multiprocessing`` pipe with
tuples ``(command, *args)``; every command gets exactly one reply dict.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.client import Flow, Receiver, XmppClient, insecure_context, starttls_target


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    domain: str
    password: str
    mechanism: str


class Worker:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.login_target = starttls_target(target.host, target.port, target.domain, target.password, target.mechanism)
        self.context = insecure_context()
        self.clients: dict[str, XmppClient] = {}

    async def login(self, names: list[str], concurrency: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(max(1, concurrency))
        errors: list[str] = []

        async def one(name: str) -> None:
            async with gate:
                try:
                    client = await asyncio.wait_for(
                        XmppClient.login(self.login_target, name, "bench", self.context), 60
                    )
                except Exception as exc:
                    errors.append(f"{name}: {exc!r}"[:400])
                else:
                    self.clients[name] = client

        cpu0, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(name) for name in names))
        elapsed = time.perf_counter() - start
        return {
            "ok": len(names) - len(errors),
            "failed": len(errors),
            "errors": errors[:10],
            "elapsed": elapsed,
            "cpu": time.process_time() - cpu0,
        }

    async def close(self) -> dict[str, Any]:
        clients, self.clients = list(self.clients.values()), {}
        await asyncio.gather(*(c.close() for c in clients))
        return {"closed": len(clients)}

    async def chat(
        self, pairs: list[tuple[str, str]], window: int, warmup: float, duration: float, rate: float = 0.0
    ) -> dict[str, Any]:
        """Closed loop (``rate`` 0) or open loop at ``rate`` msgs/s per direction, ``window`` in flight at most."""
        stop = asyncio.Event()
        closures: list[str] = []
        flows: list[Flow] = []
        receivers: list[Receiver] = []
        for a, b in pairs:
            ca, cb = self.clients[a], self.clients[b]
            ab, ba = Flow(ca, cb, window), Flow(cb, ca, window)
            flows += [ab, ba]
            receivers += [Receiver(cb, ab), Receiver(ca, ba)]
        now = time.perf_counter_ns()
        start, end = now + int(warmup * 1e9), now + int((warmup + duration) * 1e9)
        for r in receivers:
            r.window = (start, end)
        tasks = [asyncio.create_task(r.receive_loop(closures.append)) for r in receivers]
        tasks += [asyncio.create_task(f.send_loop(stop, rate)) for f in flows]
        await asyncio.sleep(warmup)
        cpu0 = time.process_time()
        await asyncio.sleep(duration)
        cpu = time.process_time() - cpu0
        stop.set()
        for f in flows:
            f.credit(0)
        # Let in-flight messages drain so the connections end quiet, then stop the loops.
        drain_until = time.perf_counter() + 2.0
        while time.perf_counter() < drain_until and sum(f.sent for f in flows) > sum(r.received for r in receivers):
            await asyncio.sleep(0.02)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        latencies = [x for r in receivers for x in r.latencies]
        return {
            "sent": sum(f.sent for f in flows),
            "received": sum(r.received for r in receivers),
            "counted": sum(r.counted for r in receivers),
            "latencies_ns": latencies,
            "closures": closures[:10],
            "closed_sessions": len(closures),
            "cpu": cpu,
            "duration": duration,
        }


async def _serve(conn: Connection, target: Target) -> None:
    worker = Worker(target)
    loop = asyncio.get_running_loop()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "exit":
            await worker.close()
            conn.send({"bye": True})
            return
        handler = getattr(worker, command)
        try:
            reply = await handler(*args)
        except Exception as exc:
            reply = {"error": repr(exc)}
        conn.send(reply)


def worker_main(conn: Connection, target: Target) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import uvloop

    uvloop.run(_serve(conn, target))
