"""Start-up and shutdown, in order: config → storage → server and modules → listeners; and back."""

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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tigase_py.server import __version__
from tigase_py.server.config.listeners import listening_on

if TYPE_CHECKING:
    from tigase_py.server.config.schema import LimitsConfig, ServerConfig
    from tigase_py.server.core.server import Server
    from tigase_py.server.observe.snmp_agent import SnmpAgent

log = logging.getLogger("tigase_py.app")

VHOST_POLL_SECONDS = 10.0
IDLE_SWEEP_SECONDS = 5.0
SHUTDOWN_GRACE_SECONDS = 2.0  # session-end hooks (stanzas on their way to storage) get this long
STREAMS_GRACE_SECONDS = 0.5  # a stream still open this long after </stream:stream> has a peer not reading


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
    """Serve ``config`` until ``stop``; ``schema_in_child``: migrate/check the schema in a child process, so
    this one never imports Alembic (``run`` does; tests in one process skip the child's start-up time)."""
    from tigase_py.server.core import stats
    from tigase_py.server.core.server import Server
    from tigase_py.server.net.admin_socket import AdminSocketError
    from tigase_py.server.net.lazy_http import start_http
    from tigase_py.server.net.tcp import start_listener
    from tigase_py.server.net.tls import build_server_context
    from tigase_py.server.storage.engine import StorageError, Timeouts, open_storage

    fd_limit, _ = raise_open_files_limit(config.limits.max_connections)
    log.info("starting tigase-py %s (expat %s)", __version__, pyexpat.EXPAT_VERSION)
    try:
        timeouts = Timeouts(operation=config.storage.timeout, connect=config.storage.connect_timeout)
        create = config.storage.url.startswith("sqlite")
        if schema_in_child:
            from tigase_py.server.storage.schema_process import prepare_in_child

            await prepare_in_child(config.storage.url, create=create, timeouts=timeouts)
        storage = await open_storage(
            config.storage.url,
            create=create,
            timeouts=timeouts,
            schema_ready=schema_in_child,
            scram_iterations=config.auth.scram_iterations,
        )
    except StorageError as exc:
        log.error("storage unavailable: %s", exc)
        return 1
    from tigase_py.server.storage.users import SECRET_FILE, load_secret

    try:
        storage.users.secret = load_secret(config.server.pidfile.parent / SECRET_FILE)
    except (OSError, ValueError) as exc:
        log.error("server secret unusable: %s", exc)
        await storage.close()
        return 1
    server = Server(config, storage)
    server.admission.fd_limit = fd_limit
    asyncio.get_running_loop().set_exception_handler(accept_error_handler(server))
    listeners: list[asyncio.Server] = []
    snmp_agent: SnmpAgent | None = None
    pidfile = config.server.pidfile
    stop = stop or asyncio.Event()
    if signals:
        install_signals(server, stop)
    try:
        await server.sync_vhosts()
        tls = None
        if config.tls.certificate is not None and config.tls.key is not None:
            tls = build_server_context(config.tls.certificate, config.tls.key)
        for listener in config.listeners:
            try:
                listeners.append(await start_listener(server, listener, tls))
            except OSError as exc:
                log.error("cannot listen on %s:%d: %s", listener.address, listener.port, exc.strerror or exc)
                return 1
            log.info("listening c2s %s:%d tls=%s", listener.address, listener.port, listener.tls)
        log.info(
            "limits: max_connections=%d open-files=%d output soft/hard=%d/%d idle=%gs trusted=%s",
            config.limits.max_connections, fd_limit, config.limits.output_buffer_soft,
            config.limits.output_buffer_hard, config.limits.idle_timeout, ",".join(config.limits.trusted_networks),
        )  # fmt: skip
        if config.snmp.enabled:
            from tigase_py.server.observe.snmp_agent import start_agent

            try:
                snmp_agent = start_agent(server, config.snmp)
            except OSError as exc:
                log.error("cannot serve snmp on %s:%d: %s", config.snmp.address, config.snmp.port, exc)
                return 1
        try:
            stop_http = await start_http(server)
        except OSError as exc:
            log.error("cannot listen on http %s:%d: %s", config.http.address, config.http.port, exc.strerror or exc)
            return 1
        except AdminSocketError as exc:
            log.error("%s", exc)
            return 1
        write_pidfile(pidfile)
        log.info("ready: listening on %s", listening_on(config))
        poller = asyncio.get_running_loop().create_task(poll_vhosts(server))
        sweeper = asyncio.get_running_loop().create_task(sweep_idle(server))
        watcher = asyncio.get_running_loop().create_task(stats.watch(server, server.stats))
        if ready is not None:
            ready(server)
        await stop.wait()
        poller.cancel()
        sweeper.cancel()
        watcher.cancel()
        log.info("shutting down")
        began = time.monotonic()
        await shutdown(server, listeners)
        await stop_http()
        log.info("stopped in %.2f s", time.monotonic() - began)
        return 0
    finally:
        for listening in listeners:
            listening.close()
        if snmp_agent is not None:
            snmp_agent.close()
        await storage.close()
        remove_pidfile(pidfile)


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
