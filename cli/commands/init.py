"""``tigase-py init [DIR]``: write a default config and certificate, optionally a first user."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tigase_py.cli import admin_door, console, errors


def init(
    directory: Annotated[Path, typer.Argument(help="Where to write tigase.toml and certs/.", file_okay=False)] = Path(
        "."
    ),
    vhost: Annotated[str, typer.Option("--vhost", help="The first virtual host.")] = "localhost",
    user: Annotated[
        str | None, typer.Option("--user", help="Also create this account (name or JID) and make it admin.")
    ] = None,
    password: Annotated[str | None, typer.Option("--password", help="Password for --user.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing tigase.toml.")] = False,
) -> None:
    """Write a default config (SQLite, loopback listeners) and a self-signed certificate."""
    from tigase_py.cli.commands import user as user_command
    from tigase_py.server.config import default, permissions, types
    from tigase_py.server.config.errors import ConfigError
    from tigase_py.server.config.load import load_config

    try:
        domain = types.parse_domain(vhost)
    except ValueError as exc:
        raise errors.UsageError(f"--vhost: {exc}") from None
    if password is not None and user is None:
        raise errors.UsageError("--password needs --user")
    account = None
    if user is not None:
        username, account_domain = user_command.split_jid(user if "@" in user else f"{user}@{domain}")
        if account_domain != domain:
            raise errors.UsageError(f"--user must be on the vhost {domain}, got {user}")
        account = (username, account_domain, user_command.ask_password(password))
    try:
        with permissions.private_files():  # a new directory 0700, files 0600
            path = default.write_default(
                directory, domain, admins=[f"{account[0]}@{account[1]}"] if account else [], force=force
            )
    except FileExistsError as exc:
        raise errors.CliError(str(exc)) from None
    except ConfigError as exc:
        raise errors.UsageError(exc.reason) from None
    console.success(f"wrote {path} and a self-signed certificate for {domain} in {path.parent / 'certs'}")
    if account is not None:
        username, account_domain, secret = account
        args = {"accountjid": f"{username}@{account_domain}", "password": secret}
        admin_door.run_offline(load_config(path), "add-user", args)
        console.success(f"created {username}@{account_domain} (admin)")
    for warning in permissions.exposed(load_config(path)):  # e.g. an existing directory open to others
        console.warning(warning)
    flag = "" if path.resolve() == Path("tigase.toml").resolve() else f" --config {path}"
    console.info("next steps:")
    console.info(f"  tigase-py{flag} config check")
    console.info(f"  tigase-py{flag} server start")
    if account is None:
        console.info(f"  tigase-py{flag} user add alice@{domain}")
