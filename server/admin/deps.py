"""What admin operations may touch: narrow, explicit dependencies instead of the ``Server``.

A running server builds them with :func:`tigase_py.server.admin.live.deps_of`; the CLI without a running
server builds them with :func:`offline` from the config and an open storage. Offline there are no sessions,
no login lockouts, no metrics and no router: operations that need them say so (``service-unavailable``),
and events have no bus to reach. They are recorded in ``fired`` instead; a running server without an
admin socket learns of stored changes on SIGHUP or its next vhost poll, and recounts its users within
10 s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tigase_py.server.admin.operation import AdminError

if TYPE_CHECKING:
    import builtins

    from tigase_py.server.core.session import SessionManager
    from tigase_py.server.xml.element import Element


class UserStore(Protocol):
    async def create(self, username: str, domain: str, password: str) -> None: ...
    async def set_password(self, username: str, domain: str, password: str) -> None: ...
    async def delete(self, username: str, domain: str) -> bool: ...
    async def exists(self, username: str, domain: str) -> bool: ...
    async def list(self, domain: str | None = None) -> builtins.list[str]: ...
    async def count(self, domain: str | None = None) -> int: ...


class VhostStore(Protocol):
    async def list(self) -> builtins.list[str]: ...
    async def add(self, domain: str) -> bool: ...
    async def remove(self, domain: str) -> bool: ...


class LoginLockouts(Protocol):
    def unlock_account(self, account: str) -> int: ...
    def unlock_ip(self, ip: str) -> int: ...
    def lockouts(self) -> builtins.list[dict[str, Any]]: ...


class Fire(Protocol):
    """Fire a named event (``user.created``, ``vhost.added``, ...) for a vhost, as the event bus does."""

    def __call__(self, name: str, vhost: str | None, /, **fields: Any) -> Awaitable[object]: ...


T = TypeVar("T")
Serve = Callable[[str], Awaitable[bool]]
Deliver = Callable[["Element"], Awaitable[None]]


@dataclass(slots=True)
class AdminDeps:
    users: UserStore
    stored_vhosts: VhostStore
    fire: Fire
    served: Callable[[], set[str]]  # the vhosts served now
    configured_vhosts: tuple[str, ...]  # [server] vhosts: removable only by editing the config
    is_admin: Callable[[str], bool]  # whether a bare JID is one of [server] admins
    serve: Serve  # start serving a vhost now (it fires vhost.added); False when it is served already
    unserve: Serve  # stop serving it (it fires vhost.removed)
    sessions: SessionManager | None = None
    lockouts: LoginLockouts | None = None
    metrics: Callable[[], dict[str, float]] | None = None
    deliver: Deliver | None = None
    fired: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # offline: what was not fired

    def live_sessions(self) -> SessionManager:
        return _live(self.sessions, "sessions")

    def live_lockouts(self) -> LoginLockouts:
        return _live(self.lockouts, "login lockouts")

    def live_metrics(self) -> Callable[[], dict[str, float]]:
        return _live(self.metrics, "metrics")

    def live_deliver(self) -> Deliver:
        return _live(self.deliver, "message delivery")


def _live(value: T | None, what: str) -> T:
    if value is None:
        raise AdminError(f"{what} live in the running server; start it first", "service-unavailable")
    return value


class Storage(Protocol):
    """The part of the storage engine the admin layer uses."""

    @property
    def users(self) -> UserStore: ...
    @property
    def vhosts(self) -> VhostStore: ...


async def offline(configured_vhosts: tuple[str, ...], admins: tuple[str, ...], storage: Storage) -> AdminDeps:
    """Dependencies on config + storage alone (no running server): events are recorded, not fired."""
    served = set(configured_vhosts) | set(await storage.vhosts.list())
    fired: list[tuple[str, dict[str, Any]]] = []

    async def record(name: str, vhost: str | None, /, **fields: Any) -> None:
        fired.append((name, {"vhost": vhost, **fields}))

    async def serve(vhost: str) -> bool:
        if vhost in served:
            return False
        served.add(vhost)
        await record("vhost.added", vhost, vhost=vhost)
        return True

    async def unserve(vhost: str) -> bool:
        if vhost not in served:
            return False
        served.discard(vhost)
        await record("vhost.removed", vhost, vhost=vhost)
        return True

    def is_admin(bare: str) -> bool:
        return bare in admins

    return AdminDeps(
        storage.users, storage.vhosts, record, lambda: served, configured_vhosts, is_admin, serve, unserve, fired=fired
    )
