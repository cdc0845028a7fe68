"""Availability presence (RFC 6121 section 4): initial, subsequent and unavailable broadcasts,
directed presence, and the unavailable presence owed when a session ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.modules.presence.common import addressed, parse_priority, presence, state_of
from tigase_py.server.stores.roster import ROSTER

if TYPE_CHECKING:
    from tigase_py.server.core.module import ModuleContext, StanzaContext
    from tigase_py.server.core.session import Session
    from tigase_py.server.xml.element import Element


async def broadcast_available(ctx: StanzaContext, session: Session) -> None:
    """The session sent available presence without a ``to`` (RFC 6121 4.2 and 4.4)."""
    module = ctx.module
    owner = session.bare
    stored = ctx.stanza.copy()
    stored.attrs.pop("to", None)
    stored.attrs["from"] = session.full
    initial = not session.available
    session.priority = parse_priority(stored)
    session.presence = stored
    session.available = True
    items = await module.store(ROSTER).get_items(owner)
    for item in items:
        if state_of(item).has_from:
            await module.route(addressed(stored, session.full, item.jid))
    # The user's own resources, this one included (RFC 6121 4.2.2).
    await module.route(addressed(stored, session.full, owner))
    if initial:
        for item in items:
            if state_of(item).has_to:
                await module.route(presence("probe", session.full, item.jid))
        for other in module.sessions_of(owner):
            if other is not session and other.available and other.presence is not None:
                session.send(addressed(other.presence, other.full, session.full))
        for item in items:
            if state_of(item).pending_in:
                session.send(presence("subscribe", item.jid, owner))
    await module.fire("session.presence", session=session, initial=initial)


async def broadcast_unavailable(module: ModuleContext, session: Session, stanza: Element | None = None) -> None:
    """Withdraw the session's presence from contacts, own resources and directed recipients (4.5)."""
    if not session.available:
        return
    owner = session.bare
    session.available = False
    session.presence = None
    outgoing = stanza.copy() if stanza is not None else presence("unavailable", session.full, owner)
    outgoing.attrs["type"] = "unavailable"
    sent: set[str] = set()
    for item in await module.store(ROSTER).get_items(owner):
        if state_of(item).has_from:
            sent.add(item.jid)
            await module.route(addressed(outgoing, session.full, item.jid))
    await module.route(addressed(outgoing, session.full, owner))
    directed, session.directed = session.directed, set()
    for target in sorted(directed - sent):
        await module.route(addressed(outgoing, session.full, target))


async def directed_presence(ctx: StanzaContext, session: Session, to_text: str) -> None:
    """Presence sent to one JID (RFC 6121 4.6); remembered so unavailable reaches it later."""
    to = jids.try_parse(to_text)
    if to is None:
        return
    module = ctx.module
    available = ctx.stanza.attrs.get("type") != "unavailable"
    await module.route(addressed(ctx.stanza, session.full, str(to)))
    if to.bare_str == session.bare:
        return
    target = str(to)
    if not available:
        session.directed.discard(target)
        return
    item = await module.store(ROSTER).get_item(session.bare, to.bare_str)
    if not state_of(item).has_from:
        session.directed.add(target)
