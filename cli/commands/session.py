"""``tigase-py session list|kick``: the running server's client sessions, over its admin socket.

Both run the server's own admin commands (``list-sessions``, ``end-user-session``), the ones REST and
XEP-0133 offer too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tigase_py.cli import console, context, errors, local_admin

if TYPE_CHECKING:
    from tigase_py.cli.local_admin import LocalSocket

app = typer.Typer(no_args_is_help=True, help="List and end client sessions of the running server.")


def _socket() -> LocalSocket:
    config = context.load()
    if not config.admin_socket.enabled:
        raise errors.CliError(
            "session commands need the admin socket, and [admin_socket] enabled = false",
            hint="remotely, use the REST API: GET /api/v1/sessions, DELETE /api/v1/sessions/{jid}",
        )
    local = local_admin.serving(config)
    if local is None:
        raise errors.Unreachable(f"the server is not running (nobody answers on {config.admin_socket.path})")
    return local


@app.command("list")
def list_sessions(
    vhost: Annotated[str | None, typer.Option("--vhost", help="Only sessions on this vhost.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Bound client sessions: full JID, peer address, availability, priority, TLS."""
    args = {"vhost": vhost} if vhost else {}
    rows = local_admin.run_command(_socket(), "list-sessions", args).get("rows", [])
    if as_json:
        console.emit_json({"vhost": vhost, "sessions": rows})
        return
    if not rows:
        console.info("no sessions")
        return
    console.table(
        ("jid", "peer", "available", "priority", "tls"),
        [
            (r.get("jid"), r.get("peer"), "yes" if r.get("available") else "no", r.get("priority"),
             "yes" if r.get("secure") else "no")
            for r in rows
        ],
    )  # fmt: skip


@app.command("kick")
def kick(
    jid: Annotated[str, typer.Argument(help="A full JID ends that session; a bare JID ends all of the account's.")],
) -> None:
    """Disconnect sessions (stream error policy-violation)."""
    result = local_admin.run_command(_socket(), "end-user-session", {"accountjids": [jid]})
    ended = result.get("values", {}).get("ended", [])
    if not ended:
        raise errors.CliError(f"no session of {jid}")
    for full in ended:
        console.success(f"disconnected {full}")
