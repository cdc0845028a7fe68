"""Start-up and shutdown as one ordered, reversible lifecycle: config → storage → core (metrics, bus,
sessions, router) → modules → listeners → monitoring; and back in reverse."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import pyexpat
import resource
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tigase_py.server import __version__
from tigase_py.server.config.listeners import listening_on
from tigase_py.server.upkeep import poll_vhosts, shutdown, sweep_idle

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig
    from tigase_py.server.core.lifecycle import Lifecycle
    from tigase_py.server.core.server import Server
    from tigase_py.server.observe.snmp_agent import SnmpAgent
    from tigase_py.server.storage.engine import Storage

log = logging.getLogger("tigase_py.app")


def raise_open_files_limit(max_connections: int) -> tuple[int, int]:
    """Raise the soft open-files limit to the hard one; warn when that is below what is configured."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("nofile_raise_failed soft=%d hard=%d reason=%s", soft, hard, exc)
    needed = max_connections + 64
    if soft < needed:
        log.warning(
            "open-files limit %d is below the %d that max_connections=%d needs; "
            "raise LimitNOFILE / ulimit -n or expect 'too many open files'",
            soft,
            needed,
            max_connections,
        )
    return soft, hard


def configure_logging(config: ServerConfig) -> None:
    level = getattr(logging, config.server.log_level.upper(), logging.INFO)
    handler: logging.Handler
    if config.server.log_file is not None:
        handler = logging.FileHandler(config.server.log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic reports every plugin and migration context at INFO (seven lines per start): debug only.
    logging.getLogger("alembic").setLevel(logging.NOTSET if level <= logging.DEBUG else logging.WARNING)


async def serve(
    config: ServerConfig,
    ready: Callable[[Server], None] | None = None,
    stop: asyncio.Event | None = None,
    signals: bool = True,
    schema_in_child: bool = False,
) -> int:
    """Start every part in order, call ``ready`` with the server, run until ``stop`` is set, then stop
    the parts in reverse; 1 when a part could not start (one log line says which and why), else 0.

    ``schema_in_child``: migrate/check the schema in a child process, so this one never imports Alembic
    (``run`` does; tests in one process skip the child's start-up time)."""
    from tigase_py.server.core.lifecycle import StartupFailed

    fd_limit, _ = raise_open_files_limit(config.limits.max_connections)
    log.info("starting tigase-py %s (expat %s)", __version__, pyexpat.EXPAT_VERSION)
    stop = stop or asyncio.Event()
    parts = Assembly(config, stop, signals, fd_limit, schema_in_child)
    lifecycle = parts.lifecycle()
    try:
        await lifecycle.start()
    except StartupFailed:
        return 1
    try:
        log.info("ready: listening on %s", listening_on(config))
        if ready is not None:
            ready(parts.server)
        await stop.wait()
        log.info("shutting down")
    finally:
        began = time.monotonic()
        await lifecycle.stop()
    log.info("stopped in %.2f s", time.monotonic() - began)
    return 0


@dataclass(eq=False)  # compared and hashed by identity, as one live object
class Assembly:
    """The parts of one server, each started by a named lifecycle step and stopped in reverse:
    config → storage → core (metrics, bus, sessions, router) → modules → listeners → monitoring."""

    config: ServerConfig
    stop_event: asyncio.Event
    signals: bool
    fd_limit: int
    schema_in_child: bool = False
    listeners: list[asyncio.Server] = field(default_factory=list, init=False)
    snmp_agent: SnmpAgent | None = field(default=None, init=False)
    stop_http: Callable[[], Awaitable[None]] | None = field(default=None, init=False)
    background: list[asyncio.Task[Any]] = field(default_factory=list, init=False)
    _storage: Storage | None = field(default=None, init=False, repr=False)
    _server: Server | None = field(default=None, init=False, repr=False)

    @property
    def storage(self) -> Storage:
        assert self._storage is not None, "the storage step has not run"
        return self._storage

    @property
    def server(self) -> Server:
        assert self._server is not None, "the core step has not run"
        return self._server

    def lifecycle(self) -> Lifecycle:
        from tigase_py.server.core.lifecycle import Lifecycle, Step

        pidfile = self.config.server.pidfile
        steps = [
            Step("pidfile", noop, lambda: as_async(remove_pidfile, pidfile)),  # removed last, as before
            Step("storage", self.open_storage, self.close_storage),
            Step("core", self.build_core),
            Step("modules", self.load_modules, self.unload_modules),
            Step("listeners", self.start_listeners, self.stop_listeners),
        ]
        if self.config.snmp.enabled:
            steps.append(Step("snmp", self.start_snmp, self.stop_snmp))
        steps.append(Step("http", self.start_http, self.close_http))
        steps.append(Step("background", self.start_background, self.stop_background))
        steps.append(Step("ready", lambda: as_async(write_pidfile, pidfile)))
        return Lifecycle(steps)

    async def open_storage(self) -> None:
        from tigase_py.server.core.lifecycle import StepFailed
        from tigase_py.server.storage.engine import StorageError, Timeouts, open_storage
        from tigase_py.server.storage.users import SECRET_FILE, load_secret

        config = self.config
        try:
            timeouts = Timeouts(operation=config.storage.timeout, connect=config.storage.connect_timeout)
            create = config.storage.url.startswith("sqlite")
            if self.schema_in_child:
                from tigase_py.server.storage.schema_process import prepare_in_child

                await prepare_in_child(config.storage.url, create=create, timeouts=timeouts)
            self._storage = await open_storage(
                config.storage.url,
                create=create,
                timeouts=timeouts,
                schema_ready=self.schema_in_child,
                scram_iterations=config.auth.scram_iterations,
            )
        except StorageError as exc:
            raise StepFailed(f"storage unavailable: {exc}") from None
        try:
            self.storage.users.secret = load_secret(config.server.pidfile.parent / SECRET_FILE)
        except (OSError, ValueError) as exc:
            await self.close_storage()
            raise StepFailed(f"server secret unusable: {exc}") from None

    async def close_storage(self) -> None:
        await self.storage.close()

    async def build_core(self) -> None:
        from tigase_py.server.core.server import Server

        self._server = Server(self.config, self.storage)
        self.server.admission.fd_limit = self.fd_limit
        asyncio.get_running_loop().set_exception_handler(accept_error_handler(self.server))
        if self.signals:
            install_signals(self.server, self.stop_event)

    async def load_modules(self) -> None:
        from tigase_py.server.core.lifecycle import StepFailed
        from tigase_py.server.storage.engine import StorageError

        try:
            await self.server.sync_vhosts()
        except StorageError as exc:
            await self.unload_modules()
            raise StepFailed(f"vhosts unreadable: {exc}") from None

    async def unload_modules(self) -> None:
        registry = self.server.registry
        for vhost in list(registry.loaded):
            await registry.unload_vhost(vhost)

    async def start_listeners(self) -> None:
        from tigase_py.server.core.lifecycle import StepFailed
        from tigase_py.server.net.tcp import start_listener
        from tigase_py.server.net.tls import build_server_context

        config = self.config
        tls = None
        if config.tls.certificate is not None and config.tls.key is not None:
            try:
                tls = build_server_context(config.tls.certificate, config.tls.key)
            except (OSError, ValueError) as exc:
                raise StepFailed(f"tls certificate or key unusable: {exc}") from None
        for listener in config.listeners:
            try:
                self.listeners.append(await start_listener(self.server, listener, tls))
            except OSError as exc:
                await self.stop_listeners()
                raise StepFailed(
                    f"cannot listen on {listener.address}:{listener.port}: {exc.strerror or exc}"
                ) from None
            log.info("listening c2s %s:%d tls=%s", listener.address, listener.port, listener.tls)
        log.info(
            "limits: max_connections=%d open-files=%d output soft/hard=%d/%d idle=%gs trusted=%s",
            config.limits.max_connections, self.fd_limit, config.limits.output_buffer_soft,
            config.limits.output_buffer_hard, config.limits.idle_timeout, ",".join(config.limits.trusted_networks),
        )  # fmt: skip

    async def stop_listeners(self) -> None:
        await shutdown(self.server, self.listeners)

    async def start_snmp(self) -> None:
        from tigase_py.server.core.lifecycle import StepFailed
        from tigase_py.server.observe.snmp_agent import start_agent

        snmp = self.config.snmp
        try:
            self.snmp_agent = start_agent(self.server, snmp)
        except OSError as exc:
            raise StepFailed(f"cannot serve snmp on {snmp.address}:{snmp.port}: {exc}") from None

    async def stop_snmp(self) -> None:
        if self.snmp_agent is not None:
            self.snmp_agent.close()

    async def start_http(self) -> None:
        from tigase_py.server.core.lifecycle import StepFailed
        from tigase_py.server.net.admin_socket import AdminSocketError
        from tigase_py.server.net.lazy_http import start_http

        http = self.config.http
        try:
            self.stop_http = await start_http(self.server)
        except OSError as exc:
            raise StepFailed(f"cannot listen on http {http.address}:{http.port}: {exc.strerror or exc}") from None
        except AdminSocketError as exc:
            raise StepFailed(str(exc)) from None

    async def close_http(self) -> None:
        if self.stop_http is not None:
            await self.stop_http()

    async def start_background(self) -> None:
        from tigase_py.server.core import stats

        server = self.server
        loop = asyncio.get_running_loop()
        self.background = [
            loop.create_task(poll_vhosts(server)),
            loop.create_task(sweep_idle(server)),
            loop.create_task(stats.watch(server, server.stats)),
        ]

    async def stop_background(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)


async def noop() -> None:
    return None


async def as_async(action: Callable[[Path], None], path: Path) -> None:
    action(path)


def write_pidfile(pidfile: Path) -> None:
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{os.getpid()}\n")
    pidfile.chmod(0o644)  # not a secret: `server status` of other users reads it


def remove_pidfile(pidfile: Path) -> None:
    try:
        if pidfile.read_text().strip() == str(os.getpid()):
            pidfile.unlink()
    except OSError:
        pass


def install_signals(server: Server, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: server.track(server.sync_vhosts()))
    except (RuntimeError, ValueError):
        log.debug("signal handlers unavailable (not the main thread)")


def accept_error_handler(server: Server) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """The loop's exception handler: an accept() that failed for lack of descriptors (EMFILE/ENFILE)
    is counted and logged once per interval instead of a traceback per attempt."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            server.admission.out_of_fds(f"accept() failed: {exc.strerror}")
            return
        loop.default_exception_handler(context)

    return handle


def run(config: ServerConfig) -> int:
    """Run the server in the foreground until SIGTERM/SIGINT; return the exit status."""
    from tigase_py.server.config.permissions import make_private

    make_private()  # the database, its WAL/SHM files and logs: 0600
    configure_logging(config)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serve(config, schema_in_child=True))
    return uvloop.run(serve(config, schema_in_child=True))
