"""The CLI door of the admin layer (``server/admin``): run one operation by name.

While the configured server runs (its admin socket answers), the operation runs inside it, so the server
fires its events (``user.created``, ``vhost.added``, ...), closes sessions and keeps its counters exact.
Otherwise it runs here on config + storage: the same handler, but events have no bus to reach; a running
server without an admin socket gets SIGHUP (it re-reads its vhosts) and recounts its users within 10 s.
Operations on live state (sessions, lockouts, metrics) need the running server (exit 3 without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tigase_py.cli import console, context, errors, local_admin

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig

OFFLINE_CALLER = "local:cli"


def run(config: ServerConfig, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The operation's result document (``note``, ``values``, ``rows``); refusals are one-line CliErrors."""
    local = local_admin.serving(config)
    if local is not None:
        return local_admin.run_command(local, name, args)
    return run_offline(config, name, args)


def run_offline(config: ServerConfig, name: str, args: dict[str, Any]) -> dict[str, Any]:
    from tigase_py.server.admin import builtin_operations
    from tigase_py.server.admin.operation import Registry

    registry = Registry()
    for operation in builtin_operations():
        registry.register(operation)
    found = registry.get(name)
    if found is None:
        raise errors.UsageError(f"no admin operation {name!r}")
    if found.live_only:
        if not config.admin_socket.enabled:
            raise errors.CliError(
                f"{name} needs the running server's admin socket, and [admin_socket] enabled = false",
                hint=f"remotely, use the REST API: POST /api/v1/commands/{name}",
            )
        path = config.admin_socket.path
        raise errors.Unreachable(f"{name} needs the server: the server is not running (nobody answers on {path})")

    async def action(storage: Any) -> tuple[dict[str, Any], int]:
        from tigase_py.server.admin import deps
        from tigase_py.server.admin.operation import AdminError, Call

        offline = await deps.offline(config.server.vhosts, config.server.admins, storage)
        try:
            result = await registry.execute(name, Call(offline, OFFLINE_CALLER, None), args)
        except AdminError as exc:
            raise errors.CliError(str(exc), hint=exc.hint) from None
        return result.to_json(), len(offline.fired)

    document, changes = context.run_storage(config, action)
    if changes:
        pid = context.notify_reload(config)
        if pid is not None:
            console.info(f"asked the running server (pid {pid}) to reload")
    return document
