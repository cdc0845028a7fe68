"""The HTTP listener and the admin socket, open from the start, with the application behind them (aiohttp,
the REST API, /metrics, /jolokia) built on their first connection: a server nobody asks over HTTP never
imports aiohttp, which is about a sixth of a fresh server's memory.

    stop_http = await start_http(server)   # after the XMPP listeners
    ...
    await stop_http()                       # in shutdown

A connection accepted before the application is ready waits with reading paused; it is then handed to
aiohttp's request handler (``transport.set_protocol``) as if aiohttp had accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import typing
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tigase_py.server.core.scripts import ScriptManager
from tigase_py.server.net import admin_socket

if TYPE_CHECKING:
    from aiohttp import web

    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.http")

MAX_EARLY_BYTES = 64 * 1024  # read before the hand-over (reading is paused at once; this is a bound, not a buffer)


class LazyApp:
    """One aiohttp application, set up once when the first connection arrives."""

    def __init__(self, name: str, build: Callable[[], Coroutine[Any, Any, web.AppRunner]]) -> None:
        self.name = name
        self._build = build
        self._setup: asyncio.Task[web.AppRunner] | None = None
        self._handovers: set[asyncio.Task[None]] = set()

    @property
    def is_built(self) -> bool:
        return self._setup is not None and self._setup.done() and not self._setup.cancelled()

    async def runner(self) -> web.AppRunner:
        if self._setup is None:
            log.info("http_app_building app=%s", self.name)
            self._setup = asyncio.get_running_loop().create_task(self._build())
        return await asyncio.shield(self._setup)

    def protocol(self) -> asyncio.Protocol:
        return _Waiting(self)

    def hand_over(self, waiting: _Waiting) -> None:
        task = asyncio.get_running_loop().create_task(waiting.hand_over())
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    async def close(self) -> None:
        for task in list(self._handovers):
            task.cancel()
        if self._handovers:
            await asyncio.wait(list(self._handovers), timeout=1.0)
        if self._setup is None:
            return
        if not self._setup.done():
            self._setup.cancel()
        try:
            runner = await self._setup
        except (asyncio.CancelledError, Exception):
            return
        await runner.cleanup()


class _Waiting(asyncio.Protocol):
    """A connection accepted before the application exists: reading paused until the hand-over."""

    def __init__(self, app: LazyApp) -> None:
        self.app = app
        self.transport: asyncio.Transport | None = None
        self.early = bytearray()
        self.is_lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UNIX socket transport is not registered as an asyncio.Transport; it has the same methods.
        self.transport = typing.cast(asyncio.Transport, transport)
        self.transport.pause_reading()
        self.app.hand_over(self)

    def data_received(self, data: bytes) -> None:
        self.early += data
        if len(self.early) > MAX_EARLY_BYTES and self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_lost = True

    async def hand_over(self) -> None:
        transport = self.transport
        assert transport is not None
        try:
            runner = await self.app.runner()
        except asyncio.CancelledError:
            transport.abort()
            raise
        except Exception:
            log.exception("http_app_failed app=%s", self.app.name)
            transport.abort()
            return
        factory: Any = runner.server
        if self.is_lost or transport.is_closing() or factory is None:
            transport.abort()
            return
        handler = factory()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self.early:
            handler.data_received(bytes(self.early))
        transport.resume_reading()


def _import_http_stack() -> None:
    """Import aiohttp, the REST API, /metrics and /jolokia: ~150 ms of CPU that, on the event loop, would
    stall every XMPP session once; in a worker thread the loop keeps turning (the GIL is handed back
    every few milliseconds)."""
    import importlib

    for name in ("aiohttp.web", "tigase_py.server.http_api.rest", "tigase_py.server.net.http"):
        importlib.import_module(name)


async def _runner(server: Server, scripts: ScriptManager, local: bool) -> web.AppRunner:
    await asyncio.to_thread(_import_http_stack)
    from aiohttp import web

    from tigase_py.server.http_api.rest import READY_KEY
    from tigase_py.server.net.http import build_app

    app = build_app(server, scripts, admin_socket.local_caller) if local else build_app(server, scripts)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    app[READY_KEY]["ready"] = True
    return runner


async def start_http(server: Server) -> Callable[[], Awaitable[None]]:
    """Start the scripts watcher, (when ``[http] enabled``) the HTTP listener and (when ``[admin_socket]
    enabled``) the admin socket; return the stop function. Raises ``OSError`` for the HTTP port and
    ``AdminSocketError`` for the socket."""
    config = server.config.http
    scripts = ScriptManager(server, config.scripts_dir)
    await scripts.scan()
    watcher = asyncio.get_running_loop().create_task(scripts.watch())
    apps: list[LazyApp] = []
    listening: asyncio.AbstractServer | None = None
    stop_socket: Callable[[], Awaitable[None]] | None = None

    async def stop() -> None:
        watcher.cancel()
        try:
            await watcher
        except asyncio.CancelledError:
            pass
        scripts.close()
        if listening is not None:
            listening.close()
        if stop_socket is not None:
            await stop_socket()
        for app in apps:
            await app.close()

    try:
        if config.enabled:
            public = LazyApp("http", lambda: _runner(server, scripts, local=False))
            apps.append(public)
            listening = await asyncio.get_running_loop().create_server(
                public.protocol, config.address, config.port, reuse_address=True
            )
            log.info(
                "listening http %s:%d (REST API, /metrics, /jolokia; [http] enabled = false turns it off)",
                config.address,
                config.port,
            )
        if server.config.admin_socket.enabled:
            local = LazyApp("admin-socket", lambda: _runner(server, scripts, local=True))
            apps.append(local)
            stop_socket = await admin_socket.start_admin_socket(server.config.admin_socket, local.protocol)
    except (OSError, admin_socket.AdminSocketError):
        await stop()
        raise

    return stop
