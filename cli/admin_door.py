"""The CLI door of the admin layer (``server/admin``): run one operation by name.

While the configured server runs, the operation runs inside it: over its admin socket, or (without one)
over its REST API with the first API key of ``[http]`` that has the ``admin`` scope. So the server fires
its events (``user.created``, ``vhost.added``, ...), closes sessions and keeps its counters exact.
Otherwise (or when the running server offers neither) it runs here on config + storage: the same
handler, but events have no bus to reach; a running server then gets SIGHUP (it re-reads its vhosts)
and recounts its users within 10 s.
Operations on live state (sessions, lockouts, metrics) need the running server (exit 3 without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tigase_py.cli import console, context, errors, local_admin

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig

OFFLINE_CALLER = "local:cli"
TIMEOUT = 10.0


def run(config: ServerConfig, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The operation's result document (``note``, ``values``, ``rows``); refusals are one-line CliErrors."""
    local = local_admin.serving(config)
    if local is not None:
        return local_admin.run_command(local, name, args)
    if context.running_pid(config.server.pidfile) is not None:
        key = admin_key(config)
        if config.http.enabled and key is not None:
            return run_over_http(key, name, args)
        console.warning(
            "the server runs without an admin socket, and [http] has no API key with the admin scope: "
            "working on storage directly"
        )
    return run_offline(config, name, args)


def admin_key(config: ServerConfig) -> str | None:
    """The first configured API key with the ``admin`` scope."""
    http = config.http
    return next((key for name, key in http.api_keys.items() if "admin" in http.scopes_of(name)), None)


def run_over_http(api_key: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run the operation in the running server over its REST API (``[http]`` of the config)."""
    import asyncio

    from tigase_py.cli.commands.status import config_defaults
    from tigase_py.monitoring import model
    from tigase_py.monitoring.http import HttpTarget
    from tigase_py.monitoring.rest_command import run_command

    url = config_defaults().http_url or "http://127.0.0.1:5280"
    try:
        return asyncio.run(run_command(HttpTarget(url=url, api_key=api_key), name, args, TIMEOUT))
    except model.ProbeFailure as exc:
        if exc.kind == "unreachable":
            raise errors.Unreachable(str(exc)) from None
        raise errors.CliError(str(exc).removeprefix(f"http: {name}: ")) from None


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
