"""``tigase-py server start|stop|status``: run the server and control it through its pidfile."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tigase_py.cli import console, context, errors

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ListenerConfig, ServerConfig

app = typer.Typer(no_args_is_help=True, help="Start, stop and query the server.")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.1
LOG_TAIL_LINES = 20


def console_log(config: ServerConfig) -> Path:
    """Where a background server's stdout/stderr go: next to the pidfile."""
    pidfile = config.server.pidfile
    return pidfile.with_name(f"{pidfile.stem}.console.log")


def connect_address(listener: ListenerConfig) -> str:
    """A wildcard listen address is reached through loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(listener.address, listener.address)


def is_reachable(listener: ListenerConfig, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((connect_address(listener), listener.port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _refuse_if_running(config: ServerConfig) -> None:
    pid = context.running_pid(config.server.pidfile, remove_stale=True)
    if pid is not None:
        raise errors.CliError(f"the server is already running (pid {pid})")


def _wait_ready(config: ServerConfig, child: subprocess.Popen[bytes], log: Path) -> int:
    """Poll until the pidfile names a live process and the first listener accepts TCP."""
    deadline = time.monotonic() + START_TIMEOUT
    first = config.listeners[0]
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            for line in _tail(log):
                console.info(f"  {line}")
            raise errors.CliError(f"the server exited during start-up (exit code {code}); log: {log}")
        pid = context.read_pid(config.server.pidfile)
        if pid is not None and context.is_alive(pid) and is_reachable(first, timeout=POLL_INTERVAL):
            return pid
        time.sleep(POLL_INTERVAL)
    raise errors.CliError(
        f"the server (pid {child.pid}) is not ready after {START_TIMEOUT:.0f} s",
        hint=f"it may still be starting; see {log} and `tigase-py server status`",
    )


@app.command("start")
def start(
    foreground: Annotated[bool, typer.Option("--foreground", "-f", help="Run in this process until stopped.")] = False,
) -> None:
    """Start the server (in the background unless --foreground)."""
    config = context.load()
    _refuse_if_running(config)
    command = [sys.executable, "-m", "tigase_py.server", "--config", str(config.path)]
    if foreground:
        # This process becomes the bare server (same pid, terminal and signals): the serving process
        # then holds none of the command line (typer, rich, the installer, compat and load code).
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, command)
    from tigase_py.server.config.permissions import private_files

    log = console_log(config)
    log.parent.mkdir(parents=True, exist_ok=True)
    with private_files(), log.open("ab") as output:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=config.directory,
        )
    pid = _wait_ready(config, child, log)
    from tigase_py.server.config import listeners

    console.success(f"tigase-py started (pid {pid}); listening on {listeners.listening_on(config)}")


@app.command("stop")
def stop() -> None:
    """Stop the running server (SIGTERM, then wait)."""
    config = context.load()
    pidfile = config.server.pidfile
    pid = context.running_pid(pidfile, remove_stale=True)
    if pid is None:
        raise errors.CliError("the server is not running", hint=f"no live process in {pidfile}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while context.is_alive(pid):
        if time.monotonic() >= deadline:
            raise errors.CliError(f"the server (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s")
        time.sleep(POLL_INTERVAL)
    if context.read_pid(pidfile) == pid:
        pidfile.unlink(missing_ok=True)
    console.success(f"tigase-py stopped (pid {pid})")


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Is the server running? Exit 0 when running, 3 when not."""
    config = context.load()
    pid = context.running_pid(config.server.pidfile)
    listeners = [
        {
            "type": item.kind,
            "address": item.address,
            "port": item.port,
            "tls": item.tls,
            "reachable": pid is not None and is_reachable(item),
        }
        for item in config.listeners
    ]
    if as_json:
        console.emit_json(
            {"running": pid is not None, "pid": pid, "pidfile": str(config.server.pidfile), "listeners": listeners}
        )
    if pid is None:
        raise errors.Unreachable("the server is not running")
    if not as_json:
        console.success(f"tigase-py is running (pid {pid})")
        console.table(
            ("listener", "tls", "reachable"),
            [
                (f"{row['type']} {row['address']}:{row['port']}", row["tls"], "yes" if row["reachable"] else "no")
                for row in listeners
            ],
        )
