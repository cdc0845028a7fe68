"""Subscription stanzas (RFC 6121 section 3): run the state machine, store it, push, route, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.modules.presence.common import (
    addressed,
    available_resources,
    deliver_to_sessions,
    presence,
    save_state,
    state_of,
    user_exists,
)
from tigase_py.server.modules.presence.subscription import State, Transition, inbound, outbound
from tigase_py.server.stores.roster import ROSTER

if TYPE_CHECKING:
    from tigase_py.server.core.module import ModuleContext, StanzaContext


async def send_current_presence(ctx: ModuleContext, owner: str, contact: str) -> None:
    """Tell ``contact`` the presence of each available resource of ``owner`` (RFC 6121 3.1.5)."""
    for session in available_resources(ctx, owner):
        assert session.presence is not None
        await ctx.route(addressed(session.presence, session.full, contact))


async def send_unavailable(ctx: ModuleContext, owner: str, contact: str) -> None:
    """Withdraw ``owner``'s presence from ``contact`` after ``from`` ended (RFC 6121 3.2.1, 3.3.3)."""
    for session in available_resources(ctx, owner):
        await ctx.route(presence("unavailable", session.full, contact))


async def advance(
    ctx: ModuleContext, owner: str, contact: str, machine: Callable[[State, str], Transition], kind: str
) -> tuple[State, Transition]:
    """Move the subscription ``owner`` holds with ``contact`` by ``machine`` (outbound or inbound) for a
    ``kind`` stanza and store the new state; returns (the state before, the transition)."""
    item = await ctx.store(ROSTER).get_item(owner, contact)
    before = state_of(item)
    step = machine(before, kind)
    await save_state(ctx, owner, contact, item, step.state)
    return before, step


async def handle_outbound(ctx: StanzaContext, kind: str) -> None:
    """A local user sends a subscription stanza."""
    module = ctx.module
    to = jids.try_parse(ctx.stanza.attrs.get("to"))
    if to is None or to.is_domain:
        return
    owner = ctx.user
    contact = to.bare_str
    if contact == owner:
        return
    before, step = await advance(module, owner, contact, outbound, kind)
    if step.deliver:
        await module.route(addressed(ctx.stanza, owner, contact))
    if kind == "subscribed" and step.state.has_from and not before.has_from:
        await send_current_presence(module, owner, contact)
    elif kind == "unsubscribed" and before.has_from and not step.state.has_from:
        await send_unavailable(module, owner, contact)


async def handle_inbound(ctx: StanzaContext, kind: str) -> None:
    """A subscription stanza arrives for a local account."""
    module = ctx.module
    owner = ctx.to.bare_str
    peer = ctx.sender.bare_str
    if ctx.to.is_domain or peer == owner:
        return
    if not await user_exists(module, owner):
        if kind == "subscribe":
            await module.route(presence("unsubscribed", owner, peer))
        return
    before, step = await advance(module, owner, peer, inbound, kind)
    if step.deliver:
        await deliver_to_sessions(module, addressed(ctx.stanza, peer, owner), owner, ctx.to.domain)
    if step.auto_reply:
        await module.route(presence("subscribed", owner, peer))
        if not before.has_from:
            await send_current_presence(module, owner, peer)
    if kind == "unsubscribe" and before.has_from and not step.state.has_from:
        await send_unavailable(module, owner, peer)


__all__ = ["State", "handle_inbound", "handle_outbound", "send_current_presence", "send_unavailable"]
