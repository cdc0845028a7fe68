"""``tigase-py vhost add|remove|list``: virtual hosts kept in storage, on top of ``server.vhosts``.

While the server runs, each command goes through its admin socket (the server stores the vhost and
starts or stops serving it at once); otherwise straight to storage, plus a SIGHUP to a running server
that has no admin socket.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tigase_py.cli import console, context, errors, local_admin

app = typer.Typer(no_args_is_help=True, help="Manage virtual hosts added at run time.")

NameArgument = Annotated[str, typer.Argument(help="Domain name, e.g. example.com.")]


def _domain(name: str) -> str:
    from tigase_py.server.config import types

    try:
        return types.parse_domain(name)
    except ValueError as exc:
        raise errors.UsageError(str(exc)) from None


def _reloaded(pid: int | None) -> None:
    if pid is not None:
        console.info(f"asked the running server (pid {pid}) to reload its vhosts")


@app.command("add")
def add(name: NameArgument) -> None:
    """Add a virtual host (the running server picks it up)."""
    domain = _domain(name)
    config = context.load()
    if domain in config.server.vhosts:
        raise errors.CliError(f"{domain} is already configured in {config.path}")
    local = local_admin.serving(config)
    if local is not None:
        local_admin.run_command(local, "add-vhost", {"domain": domain})
        console.success(f"added vhost {domain}; the running server serves it now")
        return

    async def action(storage: Any) -> bool:
        return bool(await storage.vhosts.add(domain))

    if not context.run_storage(config, action):
        raise errors.CliError(f"vhost {domain} already exists")
    console.success(f"added vhost {domain}")
    _reloaded(context.notify_reload(config))


@app.command("remove")
def remove(name: NameArgument) -> None:
    """Remove a virtual host added with `vhost add`."""
    domain = _domain(name)
    config = context.load()
    if domain in config.server.vhosts:
        raise errors.CliError(
            f"{domain} is configured in {config.path}", hint="remove it from server.vhosts there instead"
        )
    local = local_admin.serving(config)
    if local is not None:
        local_admin.run_command(local, "remove-vhost", {"domain": domain})
        console.success(f"removed vhost {domain}; the running server no longer serves it")
        return

    async def action(storage: Any) -> bool:
        return bool(await storage.vhosts.remove(domain))

    if not context.run_storage(config, action):
        raise errors.CliError(f"no such vhost: {domain}")
    console.success(f"removed vhost {domain}")
    _reloaded(context.notify_reload(config))


@app.command("list")
def list_vhosts(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """List virtual hosts from the config file and from storage."""
    config = context.load()
    local = local_admin.serving(config)
    if local is not None:
        _, document = local_admin.request(local, "GET", "/api/v1/vhosts")
        stored = [str(name) for name in document.get("vhosts", [])] if isinstance(document, dict) else []
    else:

        async def action(storage: Any) -> list[str]:
            return list(await storage.vhosts.list())

        stored = context.run_storage(config, action)
    rows = [{"name": name, "source": "config"} for name in config.server.vhosts]
    rows += [{"name": name, "source": "storage"} for name in sorted(stored) if name not in config.server.vhosts]
    if as_json:
        console.emit_json({"vhosts": rows})
        return
    console.table(("vhost", "source"), [(row["name"], row["source"]) for row in rows])
