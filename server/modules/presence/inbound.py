"""Presence arriving for a local account (RFC 6121 4.3 and 4.4): probes answered, availability delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server.modules.presence.common import (
    addressed,
    available_resources,
    deliver_to_sessions,
    filtered,
    presence,
    state_of,
    user_exists,
)
from tigase_py.server.stores.roster import ROSTER

if TYPE_CHECKING:
    from tigase_py.server.core.module import StanzaContext


async def answer_probe(ctx: StanzaContext) -> None:
    """Answer on the account's behalf (RFC 6121 4.3.2): its presence if the prober may see it."""
    module = ctx.module
    owner = ctx.to.bare_str
    prober = ctx.sender.bare_str
    reply_to = str(ctx.sender)
    if not await user_exists(module, owner):
        await module.route(presence("unsubscribed", owner, prober))
        return
    if prober != owner:
        item = await module.store(ROSTER).get_item(owner, prober)
        if not state_of(item).has_from:
            await module.route(presence("unsubscribed", owner, prober))
            return
    resources = available_resources(module, owner)
    if not resources:
        await module.route(presence("unavailable", owner, reply_to))
        return
    for session in resources:
        assert session.presence is not None
        await module.route(addressed(session.presence, session.full, reply_to))


async def deliver_availability(ctx: StanzaContext) -> None:
    """Available or unavailable presence for a local JID: to that resource, or to every available one."""
    module = ctx.module
    to = ctx.to
    owner = to.bare_str
    if to.resource:
        session = module.sessions.get(to)
        if session is None:
            return
        allowed = await filtered(module, ctx.stanza, owner, to.domain)
        if allowed is not None:
            session.send(allowed)
        return
    if not module.sessions.has_resources(owner):
        return
    await deliver_to_sessions(module, ctx.stanza, owner, to.domain)
