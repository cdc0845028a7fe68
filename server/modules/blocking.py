"""XEP-0191: Blocking Command — keep a per-account blocklist and enforce it in both directions.

Outbound (``stanza.outbound``): a message or IQ to a blocked JID is refused with ``not-acceptable``
plus ``<blocked xmlns='urn:xmpp:blocking:errors'/>``; presence to it is dropped. Inbound
(``stanza.deliver``): messages and presence from a blocked JID are dropped, IQ get/set is answered
with ``service-unavailable``. A blocked bare JID covers its full JIDs; a blocked domain covers
everyone at it (XEP-0016 matching). Available presence and probes that the server sends on behalf of
a local user are also kept from the JIDs that user blocked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.core.events import DROP
from tigase_py.server.core.module import IqContext, Module, ModuleContext, Spec
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError
from tigase_py.server.jid import Jid
from tigase_py.server.stores.blocking import BLOCKING
from tigase_py.server.stores.roster import ROSTER
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

CACHE_KEY = "blocklist"
REQUESTED_KEY = "blocklist_requested"
PRESENCE_SUBSCRIPTIONS = frozenset({"from", "both"})
HIDDEN_PRESENCE = frozenset({None, "probe"})

module = Module(
    name="blocking",
    specs=[Spec("XEP-0191", "1.3")],
    features=[ns.BLOCKING],
    account_features=[ns.BLOCKING],
    stores=(BLOCKING,),
)


def match_keys(other: Jid) -> tuple[str, ...]:
    """The blocklist entries that would match ``other``: full, bare, domain/resource and domain."""
    keys = [str(other), other.bare_str, other.domain]
    if other.resource:
        keys.append(f"{other.domain}/{other.resource}")
    return tuple(keys)


def is_blocked(blocklist: frozenset[str], other: Jid) -> bool:
    return any(key in blocklist for key in match_keys(other))


def parse_items(command: Element) -> list[str]:
    """Normalised JIDs from ``<item jid='…'/>`` children; ``jid-malformed`` on a bad one."""
    found: list[str] = []
    for item in command.find_all("item", ns.BLOCKING):
        parsed = jids.try_parse(item.get("jid"))
        if parsed is None:
            raise StanzaError("jid-malformed", f"invalid JID {item.get('jid')!r}")
        found.append(str(parsed))
    return list(dict.fromkeys(found))


def command_element(name: str, items: Iterable[str]) -> Element:
    element = Element(name, ns=ns.BLOCKING)
    for item in items:
        element.add("item", {"jid": item})
    return element


def blocked_error() -> StanzaError:
    return StanzaError(
        "not-acceptable", "you have blocked this contact", app_condition=Element("blocked", ns=ns.BLOCKING_ERRORS)
    )


async def blocklist_of(ctx: ModuleContext, owner: str) -> frozenset[str]:
    """The owner's blocklist, cached in their sessions while any is bound."""
    sessions = ctx.sessions_of(owner)
    for session in sessions:
        cached = session.cache.get(CACHE_KEY)
        if cached is not None:
            return frozenset(cached)
    blocklist = frozenset(await ctx.store(BLOCKING).list(owner))
    for session in sessions:
        session.cache[CACHE_KEY] = blocklist
    return blocklist


def invalidate(ctx: ModuleContext, owner: str) -> None:
    for session in ctx.sessions_of(owner):
        session.cache.pop(CACHE_KEY, None)


def push(ctx: ModuleContext, owner: str, command: Element) -> None:
    """Send the change to every resource that retrieved the blocklist (XEP-0191 3.3, 3.4)."""
    for session in ctx.sessions_of(owner):
        if session.cache.get(REQUESTED_KEY):
            iq = Element("iq", {"type": "set", "id": f"push-{secrets.token_hex(6)}", "to": session.full})
            iq.attrs["from"] = owner
            iq.append(command.copy())
            session.send(iq)


async def receives_presence(ctx: ModuleContext, owner: str, contact: Jid, session: Session) -> bool:
    if not contact.local:
        return False
    if str(contact) in session.directed or contact.bare_str in session.directed:
        return True
    item = await ctx.store(ROSTER).get_item(owner, contact.bare_str)
    return item is not None and item.subscription in PRESENCE_SUBSCRIPTIONS


async def announce(ctx: ModuleContext, owner: str, contacts: list[str], blocked: bool) -> None:
    """On block, appear offline to the contacts; on unblock, send them current presence again."""
    available = [s for s in ctx.sessions_of(owner) if s.available]
    for text in contacts:
        contact = jids.parse(text)
        for session in available:
            if not await receives_presence(ctx, owner, contact, session):
                continue
            if blocked or session.presence is None:
                presence = Element("presence", {"type": "unavailable"})
            else:
                presence = session.presence.copy()
                presence.attrs.pop("type", None)
            presence.attrs["from"] = session.full
            presence.attrs["to"] = text
            await ctx.route(presence)


@module.iq("get", ns.BLOCKING, "blocklist", to="self")
async def get_blocklist(ctx: IqContext) -> Element:
    if ctx.origin is not None:
        ctx.origin.cache[REQUESTED_KEY] = True
    items = await ctx.store(BLOCKING).list(ctx.user)
    return ctx.result(command_element("blocklist", items))


@module.iq("set", ns.BLOCKING, "block", to="self")
async def block(ctx: IqContext) -> Element:
    items = parse_items(ctx.payload)
    if not items:
        raise StanzaError("bad-request", "block needs at least one item")
    owner = ctx.user
    await ctx.store(BLOCKING).add(owner, items)
    invalidate(ctx.module, owner)
    push(ctx.module, owner, command_element("block", items))
    await announce(ctx.module, owner, items, blocked=True)
    return ctx.result()


@module.iq("set", ns.BLOCKING, "unblock", to="self")
async def unblock(ctx: IqContext) -> Element:
    items = parse_items(ctx.payload)
    owner = ctx.user
    if items:
        await ctx.store(BLOCKING).remove(owner, items)
        released = items
    else:
        released = await ctx.store(BLOCKING).list(owner)
        await ctx.store(BLOCKING).remove(owner, None)
    invalidate(ctx.module, owner)
    push(ctx.module, owner, command_element("unblock", items))
    await announce(ctx.module, owner, released, blocked=False)
    return ctx.result()


@module.fold("stanza.outbound")
async def refuse_outbound(ctx: ModuleContext, stanza: Element, session: Session) -> Any:
    blocklist = await blocklist_of(ctx, session.bare)
    if not blocklist:
        return stanza
    target = jids.try_parse(stanza.attrs.get("to"))
    if target is None or target.bare_str == session.bare:
        return stanza
    if not is_blocked(blocklist, target):
        return stanza
    if stanza.tag == "presence":
        return DROP
    if stanza.attrs.get("type") == "error":
        return DROP
    raise blocked_error()


@module.fold("stanza.deliver")
async def refuse_inbound(ctx: ModuleContext, stanza: Element, owner: str) -> Any:
    blocklist = await blocklist_of(ctx, owner)
    if not blocklist and stanza.tag != "presence":
        return stanza
    sender = jids.try_parse(stanza.attrs.get("from"))
    if sender is None or sender.bare_str == owner:
        return stanza
    if is_blocked(blocklist, sender):
        if stanza.tag == "iq" and stanza.attrs.get("type") in ("get", "set"):
            raise StanzaError("service-unavailable")
        return DROP
    if stanza.tag == "presence" and stanza.attrs.get("type") in HIDDEN_PRESENCE and is_local(ctx, sender):
        # Presence the server broadcasts for a local sender never reaches JIDs that sender blocked.
        if is_blocked(await blocklist_of(ctx, sender.bare_str), jids.parse(owner)):
            return DROP
    return stanza


def is_local(ctx: ModuleContext, sender: Jid) -> bool:
    return bool(sender.local) and ctx.hosts.is_local(sender.domain)
