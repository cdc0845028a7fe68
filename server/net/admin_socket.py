"""The local admin channel: the admin REST app served over a UNIX socket, with file permissions as the
authority (as prosodyctl and ejabberdctl answer local operators without credentials).

The socket is created mode 0600 (0660 with ``[admin_socket] group``) before it listens, so no other user
can connect even for an instant. Every request on it runs as the ``local:uid=<peer uid>`` principal,
which has every admin permission. The server refuses to start when the socket's directory could let
another user replace the socket (owned by someone else, or writable by group or others), when a live
server already answers on it, or when something that is not a socket sits at its path.

    stop = await start_admin_socket(config, protocol)   # protocol: net/lazy_http.LazyApp.protocol
    ...
    await stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
import stat
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from tigase_py.server.config.schema import AdminSocketConfig
    from tigase_py.server.core.server import Server
    from tigase_py.server.http_api.auth import Principal

log = logging.getLogger("tigase_py.admin_socket")

LOCAL_PREFIX = "local:"
MAX_PATH_BYTES = 107  # sun_path is 108 bytes on Linux, NUL included
OWNER_MODE = 0o600
GROUP_MODE = 0o660


class AdminSocketError(Exception):
    """The admin socket cannot be served safely; the message is one line for the log."""


def socket_mode(config: AdminSocketConfig) -> int:
    return GROUP_MODE if config.group else OWNER_MODE


def group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise AdminSocketError(f"[admin_socket] group {name!r} does not exist") from None


def check_directory(directory: Path) -> None:
    """Create the directory (0700) when missing; refuse one another user could write to."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError as exc:
        raise AdminSocketError(f"admin socket directory {directory}: {exc.strerror or exc}") from None
    if info.st_uid not in (os.geteuid(), 0):
        raise AdminSocketError(
            f"admin socket directory {directory} belongs to uid {info.st_uid}, not to this user or root"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise AdminSocketError(
            f"admin socket directory {directory} is writable by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); chmod go-w it or set [admin_socket] path"
        )


def clear_stale(path: Path) -> None:
    """Remove a socket left behind by a server that is gone; refuse a live one or a non-socket."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise AdminSocketError(f"{path} exists and is not a socket; remove it or set [admin_socket] path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(os.fspath(path))
    except OSError:
        path.unlink(missing_ok=True)  # nobody answers: a crashed server's leftover
        return
    finally:
        probe.close()
    raise AdminSocketError(f"another server answers on the admin socket {path}")


def bind(config: AdminSocketConfig) -> socket.socket:
    """A bound, not yet listening socket with its final mode and group."""
    path = config.path
    if len(os.fsencode(path)) > MAX_PATH_BYTES:
        raise AdminSocketError(
            f"admin socket path {path} is longer than {MAX_PATH_BYTES} bytes; set a shorter [admin_socket] path"
        )
    gid = group_id(config.group) if config.group else None
    check_directory(path.parent)
    clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(os.fspath(path))
        # Not listening yet: connections are refused until the mode and group below are in place.
        os.chmod(path, socket_mode(config))
        if gid is not None:
            os.chown(path, -1, gid)
    except OSError as exc:
        sock.close()
        with contextlib.suppress(OSError):
            path.unlink()
        raise AdminSocketError(f"cannot serve the admin socket {path}: {exc.strerror or exc}") from None
    return sock


def peer_uid(request: web.Request) -> int | None:
    """The uid of the process at the other end (SO_PEERCRED), for the principal's name and the log."""
    sock = request.transport.get_extra_info("socket") if request.transport is not None else None
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    return int(struct.unpack("3i", raw)[1])


async def local_caller(_server: Server, request: web.Request) -> Principal:
    """Who calls over the socket: whoever could open it, named by uid (see :func:`is_local`), with
    every API scope (``[http] scripts_upload`` still gates script upload)."""
    from tigase_py.server.http_api.auth import FULL_SCOPES, Principal

    uid = peer_uid(request)
    return Principal(f"{LOCAL_PREFIX}uid={uid if uid is not None else '?'}", FULL_SCOPES)


def is_local(caller: str) -> bool:
    return caller.startswith(LOCAL_PREFIX)


async def start_admin_socket(
    config: AdminSocketConfig, protocol: Callable[[], asyncio.Protocol]
) -> Callable[[], Awaitable[None]]:
    """Accept on the socket with ``protocol`` (the HTTP application's, built on first use: ``net/lazy_http.py``);
    return the function that stops accepting and removes the socket."""
    sock = bind(config)
    identity = os.stat(config.path).st_ino
    try:
        listening = await asyncio.get_running_loop().create_unix_server(protocol, sock=sock)
    except OSError as exc:
        sock.close()
        raise AdminSocketError(f"cannot listen on the admin socket {config.path}: {exc.strerror or exc}") from None
    log.info("listening admin socket %s mode %04o group %s", config.path, socket_mode(config), config.group or "-")

    async def stop() -> None:
        listening.close()
        with contextlib.suppress(OSError):
            if os.stat(config.path).st_ino == identity:  # leave a successor's socket alone
                config.path.unlink()

    return stop
