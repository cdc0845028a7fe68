"""The running server's side of :class:`~tigase_py.server.admin.deps.AdminDeps`: the one place that
reaches into ``Server`` for the admin layer (a one-line change when the server's parts move)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server.admin.deps import AdminDeps

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server


def deps_of(server: Server) -> AdminDeps:
    return AdminDeps(
        users=server.storage.users,
        stored_vhosts=server.storage.vhosts,
        fire=server.bus.fire,
        served=lambda: server.vhosts,
        configured_vhosts=server.config.server.vhosts,
        is_admin=server.is_admin,
        serve=server.add_vhost,
        unserve=server.remove_vhost,
        sessions=server.sessions,
        lockouts=server.login_guard,
        metrics=server.metrics.snapshot,
        deliver=server.router.deliver,
    )
