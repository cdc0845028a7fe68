"""``tigase-py user add|passwd|delete|list``: accounts of the configured server.

While the server runs, each command goes through its admin socket, so the server itself changes the
account and fires its events (``user.created``, ``user.deleted``); otherwise straight to storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tigase_py.cli import console, context, errors, local_admin
from tigase_py.cli.commands.status import ApiKey, Host, HttpUrl, Timeout

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig

app = typer.Typer(no_args_is_help=True, help="Manage user accounts.")

JidArgument = Annotated[str, typer.Argument(help="Bare JID, e.g. alice@example.com.")]
PasswordOption = Annotated[str | None, typer.Option("--password", help="New password (prompted twice when omitted).")]


def split_jid(text: str) -> tuple[str, str]:
    """``alice@example.com`` → (``alice``, ``example.com``), normalised; UsageError otherwise."""
    from tigase_py.server.config import types

    try:
        bare = types.parse_bare_jid(text)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None
    username, _, domain = bare.partition("@")
    return username, domain


def ask_password(password: str | None) -> str:
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise errors.UsageError("the password must not be empty")
    return password


async def create(storage: Any, config: ServerConfig, username: str, domain: str, password: str) -> None:
    """Create the account, refusing domains that are neither configured nor added vhosts."""
    from tigase_py.server.storage.users import UserExists

    known = set(config.server.vhosts) | set(await storage.vhosts.list())
    if domain not in known:
        raise errors.CliError(
            f"{domain} is not a virtual host of this server",
            hint=f"known vhosts: {', '.join(sorted(known))}; add one with `tigase-py vhost add {domain}`",
        )
    try:
        await storage.users.create(username, domain, password)
    except UserExists:
        raise errors.CliError(f"user {username}@{domain} already exists") from None


@app.command("add")
def add(jid: JidArgument, password: PasswordOption = None) -> None:
    """Create an account."""
    username, domain = split_jid(jid)
    config = context.load()
    secret = ask_password(password)
    local = local_admin.serving(config)
    if local is not None:
        local_admin.run_command(local, "add-user", {"accountjid": f"{username}@{domain}", "password": secret})
        console.success(f"created {username}@{domain}")
        return

    async def action(storage: Any) -> None:
        await create(storage, config, username, domain, secret)

    context.run_storage(config, action)
    console.success(f"created {username}@{domain}")


@app.command("passwd")
def passwd(jid: JidArgument, password: PasswordOption = None) -> None:
    """Change an account's password."""
    username, domain = split_jid(jid)
    config = context.load()
    secret = ask_password(password)
    local = local_admin.serving(config)
    if local is not None:
        args = {"accountjid": f"{username}@{domain}", "password": secret}
        local_admin.run_command(local, "change-user-password", args)
        console.success(f"password changed for {username}@{domain}")
        return

    async def action(storage: Any) -> None:
        from tigase_py.server.storage.users import UserNotFound

        try:
            await storage.users.set_password(username, domain, secret)
        except UserNotFound:
            raise errors.CliError(f"no such user: {username}@{domain}") from None

    context.run_storage(config, action)
    console.success(f"password changed for {username}@{domain}")


@app.command("delete")
def delete(jid: JidArgument) -> None:
    """Delete an account and its data."""
    username, domain = split_jid(jid)
    config = context.load()
    local = local_admin.serving(config)
    if local is not None:
        result = local_admin.run_command(local, "delete-user", {"accountjids": [f"{username}@{domain}"]})
        if not result.get("values", {}).get("deleted"):
            raise errors.CliError(f"no such user: {username}@{domain}")
        console.success(f"deleted {username}@{domain}")
        return

    async def action(storage: Any) -> bool:
        return bool(await storage.users.delete(username, domain))

    if not context.run_storage(config, action):
        raise errors.CliError(f"no such user: {username}@{domain}")
    console.success(f"deleted {username}@{domain}")
    if context.notify_reload(config) is not None:
        console.info("asked the running server to reload")


@app.command("list")
def list_users(
    vhost: Annotated[str | None, typer.Option("--vhost", help="Only users of this vhost.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """List accounts (bare JIDs)."""
    from tigase_py.server.config import types

    domain = None
    if vhost is not None:
        try:
            domain = types.parse_domain(vhost)
        except ValueError as exc:
            raise errors.UsageError(f"--vhost: {exc}") from None
    config = context.load()
    local = local_admin.serving(config)
    if local is not None:
        args = {"max_items": "all", **({"vhost": domain} if domain else {})}
        listed = local_admin.run_command(local, "get-registered-users-list", args).get("values", {})
        names = [str(name) for name in listed.get("registereduserjids", [])]
    else:

        async def action(storage: Any) -> list[str]:
            return list(await storage.users.list(domain))

        names = context.run_storage(config, action)
    users = sorted(_as_jid(name, domain) for name in names)
    if as_json:
        console.emit_json({"vhost": domain, "users": users})
        return
    if not users:
        console.info("no users")
        return
    for item in users:
        console.result(item)


def _as_jid(name: str, domain: str | None) -> str:
    return f"{name}@{domain}" if domain and "@" not in name else name


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

    username, domain = split_jid(jid)
    result = call("unlock-login", {"accountjid": f"{username}@{domain}"}, host, http_url, api_key, None, None, timeout)
    console.success(str(result.get("note", "")))
