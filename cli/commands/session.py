"""``tigase-py session list|kick``: the running server's client sessions, over its admin socket.

Both run the server's admin operations (``list-sessions``, ``end-user-session``), the ones REST and
XEP-0133 offer too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tigase_py.cli import admin_door, console, context

app = typer.Typer(no_args_is_help=True, help="List and end client sessions of the running server.")


@app.command("list")
def list_sessions(
    vhost: Annotated[str | None, typer.Option("--vhost", help="Only sessions on this vhost.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Bound client sessions: full JID, peer address, availability, priority, TLS."""
    args = {"vhost": vhost} if vhost else {}
    rows = admin_door.run(context.load(), "list-sessions", args).get("rows", [])
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
    result = admin_door.run(context.load(), "end-user-session", {"accountjids": [jid]})
    for full in result.get("values", {}).get("ended", []):
        console.success(f"disconnected {full}")
