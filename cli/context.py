"""State shared by subcommands: the config path chosen by the root options, and small helpers
to load the config, reach storage and signal a running server.

Heavy modules (asyncio, the storage engine) are imported inside functions only.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tigase_py.server.config.load import ConfigLocation
    from tigase_py.server.config.schema import ServerConfig

T = TypeVar("T")


@dataclass(slots=True)
class CliState:
    explicit_config: Path | None = None
    verbose: int = 0


state = CliState()


def configure(explicit_config: Path | None, verbose: int) -> None:
    """Called by the root callback on every invocation."""
    state.explicit_config = explicit_config
    state.verbose = verbose


def verbosity() -> int:
    return state.verbose


def locate(explicit: Path | None = None) -> ConfigLocation:
    """Where the config is and how it was found; ``explicit`` (a command argument) wins."""
    from tigase_py.server.config.load import ConfigLocation, locate_config

    if explicit is not None:
        return ConfigLocation(explicit, "argument")
    return locate_config(state.explicit_config)


def config_path() -> Path:
    return locate().path


def load(explicit: Path | None = None) -> ServerConfig:
    from tigase_py.server.config.load import load_config

    return load_config(locate(explicit).path)


def storage_url_from_config() -> str:
    return load().storage.url


def run_storage(config: ServerConfig, action: Callable[[Any], Awaitable[T]]) -> T:
    """Open the configured storage (creating the schema if needed), run ``action(storage)``, close."""
    import asyncio

    from tigase_py.server.config.permissions import private_files

    async def main() -> T:
        from tigase_py.server.storage.engine import open_storage

        storage = await open_storage(config.storage.url, create=True, scram_iterations=config.auth.scram_iterations)
        try:
            return await action(storage)
        finally:
            await storage.close()

    with private_files():  # a database (and its WAL/SHM files) created here holds credentials
        return asyncio.run(main())


def read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """An exited process not yet reaped by its parent still answers kill(pid, 0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def running_pid(pidfile: Path, *, remove_stale: bool = False) -> int | None:
    """The pid of the running server, or None (optionally removing a stale pidfile)."""
    pid = read_pid(pidfile)
    if pid is not None and is_alive(pid):
        return pid
    if remove_stale and pidfile.exists():
        pidfile.unlink(missing_ok=True)
    return None


def notify_reload(config: ServerConfig) -> int | None:
    """SIGHUP a running server so it reloads vhosts; returns its pid or None when not running."""
    pid = running_pid(config.server.pidfile)
    if pid is not None:
        os.kill(pid, signal.SIGHUP)
    return pid
