"""What a running server does besides answering streams: poll for vhosts, sweep idle sessions, and at
shutdown close every stream gracefully."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tigase_py.server.config.schema import LimitsConfig
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.app")

VHOST_POLL_SECONDS = 10.0
IDLE_SWEEP_SECONDS = 5.0
SHUTDOWN_GRACE_SECONDS = 2.0  # session-end hooks (stanzas on their way to storage) get this long
STREAMS_GRACE_SECONDS = 0.5  # a stream still open this long after </stream:stream> has a peer not reading


async def poll_vhosts(server: Server) -> None:
    while True:
        await asyncio.sleep(VHOST_POLL_SECONDS)
        try:
            await server.sync_vhosts()
        except Exception as exc:
            log.warning("vhost_poll_failed reason=%s", exc)


def sweep_interval(limits: LimitsConfig) -> float:
    """How often idle sessions are looked at: often enough for the configured idle timeouts."""
    return max(0.1, min(IDLE_SWEEP_SECONDS, limits.idle_timeout / 4, limits.idle_ping_timeout / 4))


async def sweep_idle(server: Server) -> None:
    """Ping sessions idle for ``idle_timeout`` and close those that do not answer; every
    IDLE_SWEEP_SECONDS free the parser state of sessions idle for a whole interval (~10 KiB each)."""
    release = memory_releaser()
    tick = sweep_interval(server.config.limits)
    next_free = time.monotonic() + IDLE_SWEEP_SECONDS
    while True:
        await asyncio.sleep(tick)
        now = time.monotonic()
        connections = list(server.connections)
        for connection in connections:
            connection.check_idle(now)
        if now < next_free:
            continue
        next_free = now + IDLE_SWEEP_SECONDS
        freed = sum(1 for connection in connections if connection.sweep_idle())
        server.stats.parsers_freed.plain.value += freed
        if freed and release is not None:
            release(0)


def memory_releaser() -> Callable[[int], int] | None:
    """glibc's malloc_trim: hands pages freed by the sweep back to the OS (None elsewhere)."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


async def shutdown(server: Server, listeners: list[asyncio.Server]) -> None:
    """Stop accepting, close every stream with ``system-shutdown``, let queued stanzas reach storage
    for up to SHUTDOWN_GRACE_SECONDS (idle sessions take milliseconds), then cut what is left."""
    loop = asyncio.get_running_loop()
    for listening in listeners:
        listening.close()
    deadline = loop.time() + SHUTDOWN_GRACE_SECONDS
    streams_deadline = loop.time() + STREAMS_GRACE_SECONDS
    while True:
        # Sockets accepted just before the listeners closed get connection_made late: close those too.
        for connection in list(server.connections):
            connection.close_with_error("system-shutdown", "the server is shutting down")
        if not ((server.tasks and loop.time() < deadline) or (server.connections and loop.time() < streams_deadline)):
            break
        pending = list(server.tasks)
        if pending:
            await asyncio.wait(pending, timeout=min(0.05, max(0.0, deadline - loop.time())))
        else:
            await asyncio.sleep(0.02)
    stragglers = [c for c in server.connections if c.transport is not None]
    peers = ",".join(c.peer for c in stragglers[:5])
    for connection in stragglers:
        connection.transport.abort()
    leftover = list(server.tasks)
    for task in leftover:
        task.cancel()
    if leftover:
        await asyncio.wait(leftover, timeout=0.5)
    if stragglers or leftover:
        log.warning(
            "shutdown_cut streams=%d tasks=%d peers=%s",
            len(stragglers),
            len(leftover),
            peers,
        )
