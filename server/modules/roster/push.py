"""Roster pushes (RFC 6121 2.1.6): tell every interested resource of an account about a changed item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server.modules.roster.items import is_hidden, render_push
from tigase_py.server.stores.roster import RosterItem

if TYPE_CHECKING:
    from tigase_py.server.core.capabilities import SessionView


def push_item(sessions: SessionView, owner: str, item: RosterItem, version: int, remove: bool = False) -> int:
    """Send the push to each interested resource of ``owner``; return how many got it."""
    if not remove and is_hidden(item):
        return 0
    count = 0
    for session in sessions.resources(owner):
        if session.interested:
            session.send(render_push(session.full, owner, item, version, remove))
            count += 1
    return count
