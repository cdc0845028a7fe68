"""``tigase-py vhost add|remove|list``: virtual hosts kept in storage, on top of ``server.vhosts``.

Each command runs the server's admin operation (``server/admin/vhosts.py``) through ``cli/admin_door.py``:
inside the running server when its admin socket answers (it serves or drops the vhost at once), otherwise
on storage, plus a SIGHUP to a running server that has no admin socket.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tigase_py.cli import admin_door, console, context, errors

app = typer.Typer(no_args_is_help=True, help="Manage virtual hosts added at run time.")

NameArgument = Annotated[str, typer.Argument(help="Domain name, e.g. example.com.")]


def _domain(name: str) -> str:
    from tigase_py.server.config import types

    try:
        return types.parse_domain(name)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None


@app.command("add")
def add(name: NameArgument) -> None:
    """Add a virtual host (the running server picks it up)."""
    domain = _domain(name)
    admin_door.run(context.load(), "add-vhost", {"domain": domain})
    console.success(f"added vhost {domain}")


@app.command("remove")
def remove(name: NameArgument) -> None:
    """Remove a virtual host added with `vhost add`."""
    domain = _domain(name)
    admin_door.run(context.load(), "remove-vhost", {"domain": domain})
    console.success(f"removed vhost {domain}")


@app.command("list")
def list_vhosts(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """List virtual hosts from the config file and from storage."""
    rows = admin_door.run(context.load(), "list-vhosts", {}).get("rows", [])
    if as_json:
        console.emit_json({"vhosts": rows})
        return
    console.table(("vhost", "source"), [(row.get("name"), row.get("source")) for row in rows])
