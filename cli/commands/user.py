"""``tigase-py user add|passwd|delete|list|info|unlock``: accounts of the configured server.

Each command runs the server's admin operation (``server/admin/users.py``) through ``cli/admin_door.py``:
inside the running server when its admin socket answers (so it fires ``user.created``/``user.deleted``),
otherwise on config + storage.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tigase_py.cli import admin_door, console, context, errors
from tigase_py.cli.commands.status import ApiKey, Host, HttpUrl, Timeout

app = typer.Typer(no_args_is_help=True, help="Manage user accounts.")

JidArgument = Annotated[str, typer.Argument(help="Bare JID, e.g. alice@example.com.")]
PasswordOption = Annotated[str | None, typer.Option("--password", help="New password (prompted twice when omitted).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def split_jid(text: str) -> tuple[str, str]:
    """``alice@example.com`` → (``alice``, ``example.com``), normalised; UsageError otherwise."""
    from tigase_py.server.config import types

    try:
        bare = types.parse_bare_jid(text)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None
    username, _, domain = bare.partition("@")
    return username, domain


def bare_jid(text: str) -> str:
    return "@".join(split_jid(text))


def ask_password(password: str | None) -> str:
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise errors.UsageError("the password must not be empty")
    return password


def with_password(operation: str, jid: str, password: str | None) -> str:
    """Run an operation that takes an account and a password; the account's bare JID."""
    bare = bare_jid(jid)
    config = context.load()
    admin_door.run(config, operation, {"accountjid": bare, "password": ask_password(password)})
    return bare


@app.command("add")
def add(jid: JidArgument, password: PasswordOption = None) -> None:
    """Create an account."""
    console.success(f"created {with_password('add-user', jid, password)}")


@app.command("passwd")
def passwd(jid: JidArgument, password: PasswordOption = None) -> None:
    """Change an account's password."""
    console.success(f"password changed for {with_password('change-user-password', jid, password)}")


@app.command("delete")
def delete(jid: JidArgument) -> None:
    """Delete an account and its data."""
    bare = bare_jid(jid)
    admin_door.run(context.load(), "delete-user", {"accountjids": [bare]})
    console.success(f"deleted {bare}")


@app.command("list")
def list_users(
    vhost: Annotated[str | None, typer.Option("--vhost", help="Only users of this vhost.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List accounts (bare JIDs)."""
    from tigase_py.server.config import types

    domain = None
    if vhost is not None:
        try:
            domain = types.parse_domain(vhost)
        except ValueError as exc:
            raise errors.UsageError(f"--vhost: {exc}") from None
    args = {"max_items": "all", **({"vhost": domain} if domain else {})}
    listed = admin_door.run(context.load(), "get-registered-users-list", args).get("values", {})
    users = sorted(str(name) for name in listed.get("registereduserjids", []))
    if as_json:
        console.emit_json({"vhost": domain, "users": users})
        return
    if not users:
        console.info("no users")
        return
    for item in users:
        console.result(item)


@app.command("info")
def info(jid: JidArgument, as_json: JsonOption = False) -> None:
    """Whether an account exists, and its online resources (when the server runs)."""
    values = admin_door.run(context.load(), "user-info", {"accountjid": bare_jid(jid)}).get("values", {})
    if as_json:
        console.emit_json(values)
        return
    resources = values.get("resources")
    online = "unknown (the server is not running)" if resources is None else (", ".join(resources) or "none")
    console.table(("jid", "online resources"), [(values.get("jid"), online)])


@app.command("unlock")
def unlock(
    jid: JidArgument,
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    timeout: Timeout = 5.0,
) -> None:
    """Lift a login lockout of an account (needs the running server: lockouts live in its memory)."""
    from tigase_py.cli.commands.auth import call

    result = call("unlock-login", {"accountjid": bare_jid(jid)}, host, http_url, api_key, None, None, timeout)
    console.success(str(result.get("note", "")))
