"""``tigase-py auth unlock|lockouts``: the login lockouts of a running server.

Lockouts live in the server's memory, so these commands talk to the running server: over its admin
socket when it has one (no credentials), else over its REST API with an API key that has the ``admin``
scope (by default the first such key in the config's ``[http]``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any

import typer

from tigase_py.cli import admin_door, console, context, errors, local_admin
from tigase_py.cli.commands.status import ApiKey, Host, HttpUrl, Password, Timeout, User, config_defaults, http_target

app = typer.Typer(no_args_is_help=True, help="Login throttling: lockouts after failed logins.")


def admin_key() -> str | None:
    """The first configured API key with the ``admin`` scope (None without a config or such a key)."""
    from tigase_py.server.config.errors import ConfigError

    try:
        return admin_door.admin_key(context.load())
    except ConfigError:
        return None


def call(name: str, args: dict[str, Any], host: str | None, http_url: str | None, api_key: str | None,
         user: str | None, password: str | None, timeout: float) -> dict[str, Any]:  # fmt: skip
    """Run admin command ``name`` on the running server (over its admin socket when it has one and no
    remote target or credentials are given, else over REST); map failures to exit codes."""
    from tigase_py.monitoring import model
    from tigase_py.monitoring.rest_command import run_command
    from tigase_py.server.config.errors import ConfigError

    if not (host or http_url or api_key or user):
        try:
            local = local_admin.serving(context.load())
        except ConfigError:
            local = None
        if local is not None:
            return local_admin.run_command(local, name, args)

    # Only an admin-scope key will do: never fall back to the first (maybe read-only) key of the config.
    defaults = dataclasses.replace(config_defaults(), api_key=None)
    target = http_target(defaults, host, http_url, api_key or (None if user else admin_key()), user, password)
    if not target.has_credentials:
        raise errors.UsageError("needs --api-key (an admin-scope key; or TIGASE_PY_API_KEY) or --user/--password")
    try:
        return asyncio.run(run_command(target, name, args, timeout))
    except model.ProbeFailure as exc:
        if exc.kind == "unreachable":
            raise errors.Unreachable(str(exc), hint="lockouts live in the running server; start it first") from None
        raise errors.CliError(str(exc)) from None


def unlock_ip(
    ip: Annotated[str, typer.Option("--ip", help="Client IP address whose failed logins to forget.")],
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    timeout: Timeout = 5.0,
) -> None:
    """Lift the lockout of an IP (SASL, REST and registration counters)."""
    result = call("unlock-login", {"ip": ip}, host, http_url, api_key, user, password, timeout)
    console.success(str(result.get("note", "")))


def lockouts(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    timeout: Timeout = 5.0,
) -> None:
    """List the lockouts in force."""
    result = call("list-login-lockouts", {}, host, http_url, api_key, user, password, timeout)
    rows = result.get("rows") or []
    if as_json:
        console.emit_json({"lockouts": rows})
        return
    columns = ["kind", "account", "ip", "failures", "seconds_left"]
    console.table(columns, [[str(row.get(c, "")) for c in columns] for row in rows], title="login lockouts")


app.command("unlock")(unlock_ip)
app.command("lockouts")(lockouts)
