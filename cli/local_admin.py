"""The client side of the server's admin socket (``[admin_socket]`` in the config).

On the server's host, ``status``, ``stats``, ``user``, ``vhost`` and ``session`` talk to the running
server over this socket without credentials: whoever can open it is an administrator, as with
prosodyctl and ejabberdctl. Before using it the client checks that nobody else could have put it
there or could listen in: it must be a socket owned by root, by this user or by the user the running
server process (named by the pidfile) runs as, with no access for others (mode 0600, or 0660 when
``[admin_socket] group`` is configured), in a directory that such an owner holds and nobody else may
write to. Any doubt is one line and exit 1.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tigase_py.cli import errors

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig

BASE_URL = "http://localhost"  # the host part is ignored on a UNIX socket
TIMEOUT = 10.0


class NotServing(Exception):
    """The socket file is there but no server answers on it (it stopped or crashed)."""


@dataclass(frozen=True, slots=True)
class LocalSocket:
    path: Path
    group: str | None
    server_uids: frozenset[int]  # owners we accept besides root and ourselves: the server process's uid

    def denied(self) -> errors.CliError:
        who = f"the server's user or a member of group {self.group}" if self.group else "the server's user or root"
        return errors.CliError(
            f"no access to the admin socket {self.path} (permission denied): run as {who}, "
            "or name the server with --http-url and give --api-key or --user/--password"
        )


def locate(config: ServerConfig) -> LocalSocket | None:
    """The configured socket when it is enabled and present (None: use the remote or storage path)."""
    settings = config.admin_socket
    if not settings.enabled:
        return None
    found = LocalSocket(settings.path, settings.group, frozenset(_server_uids(config)))
    try:
        settings.path.lstat()
    except PermissionError:
        raise found.denied() from None
    except OSError:
        return None
    return found


def _server_uids(config: ServerConfig) -> set[int]:
    """The uid of the running server process named by the pidfile (none when it is not running)."""
    from tigase_py.cli import context

    pid = context.read_pid(config.server.pidfile)
    if pid is None:
        return set()
    try:
        return {Path(f"/proc/{pid}").stat().st_uid}
    except OSError:
        return set()


def verify(local: LocalSocket) -> None:
    """Refuse a socket (or its directory) whose ownership or mode is not what the server sets."""
    path, group = local.path, local.group
    try:
        info = path.lstat()
        directory = path.parent.stat()
    except PermissionError:
        raise local.denied() from None
    except OSError as exc:
        raise errors.CliError(f"cannot inspect the admin socket {path}: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(info.st_mode)
    owners = {0, os.geteuid(), *local.server_uids}
    problem = None
    if not stat.S_ISSOCK(info.st_mode):
        problem = "it is not a socket"
    elif info.st_uid not in owners:
        problem = f"it belongs to uid {info.st_uid}, neither root nor the server's user"
    elif mode & 0o007:
        problem = f"mode {mode:04o} lets every user connect (expected 0600, or 0660 with [admin_socket] group)"
    elif mode & 0o070 and not group:
        problem = f"mode {mode:04o} gives its group access but [admin_socket] group is not set"
    elif mode & 0o070 and group and info.st_gid != _gid(group):
        problem = f"its group is gid {info.st_gid}, not the configured group {group}"
    elif directory.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or directory.st_uid not in owners:
        problem = f"its directory {path.parent} can be written by other users"
    if problem is not None:
        raise errors.CliError(f"refusing the admin socket {path}: {problem}")
    if not os.access(path, os.R_OK | os.W_OK):
        raise local.denied()


def _gid(name: str) -> int | None:
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def usable(config: ServerConfig) -> LocalSocket | None:
    """The verified socket of the server configured in ``config``, or None when it has none."""
    local = locate(config)
    if local is not None:
        verify(local)
    return local


def request(local: LocalSocket, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Send one request; return (status, JSON document). Raises :class:`NotServing` when nobody answers."""
    import asyncio

    return asyncio.run(_request(local, method, path, body))


async def _request(local: LocalSocket, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
    import aiohttp

    connector = aiohttp.UnixConnector(path=os.fspath(local.path))
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with session.request(method, BASE_URL + path, json=body) as response:
                return response.status, await response.json(content_type=None)
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, PermissionError):
            raise local.denied() from None
        raise NotServing(str(local.path)) from None
    except TimeoutError:
        raise errors.Unreachable(f"the server did not answer on {local.path} within {TIMEOUT:g} s") from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise errors.CliError(f"admin socket {local.path}: {exc or type(exc).__name__}") from None


def run_command(local: LocalSocket, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run an admin operation (``server/admin/``) on the running server; its result document.

    A refusal becomes a one-line ``CliError`` with the server's message.
    """
    status, document = request(local, "POST", f"/api/v1/commands/{name}", args)
    if status >= 400 or not isinstance(document, dict):
        message = document.get("error") if isinstance(document, dict) else None
        raise errors.CliError(str(message or f"the server answered {status} to {name}"))
    return document


def serving(config: ServerConfig) -> LocalSocket | None:
    """The socket when a server answers on it now; None when there is none or it is stale."""
    local = usable(config)
    if local is None:
        return None
    try:
        status, _ = request(local, "GET", "/api/v1/health")
    except NotServing:
        return None
    return local if status in (200, 503) else None
