"""Subscriber use cases (XEP-0060 6.1, 6.2, 5.6, 5.7): subscribe, unsubscribe, own subscriptions and
affiliations."""

from __future__ import annotations

import uuid

from tigase_py.server import jid as jids
from tigase_py.server.core.module import IqContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub import access, authorize
from tigase_py.server.modules.pubsub.declaration import NS_PUBSUB
from tigase_py.server.modules.pubsub.errors import pubsub_error
from tigase_py.server.stores.pubsub_records import SubscriptionRecord
from tigase_py.server.xml.element import Element


def _subscriber(ctx: IqContext, action: Element, mismatch: StanzaError) -> str:
    """The ``jid`` attribute: a JID whose bare part is the sender's (admins may name anyone)."""
    text = action.get("jid") or ""
    try:
        jid = jids.parse(text)
    except ValueError as exc:
        raise pubsub_error("bad-request", "jid-required" if not text else "invalid-jid", "a JID is needed") from exc
    if jid.bare_str != ctx.user and not access.is_admin(ctx):
        raise mismatch
    return str(jid)


def _subscription_element(record: SubscriptionRecord) -> Element:
    attrs = {"node": record.node, "jid": record.jid, "subid": record.subid, "subscription": record.state}
    return Element("subscription", attrs)


async def subscribe(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    jid = _subscriber(ctx, action, pubsub_error("bad-request", "invalid-jid", "the JID is not yours"))
    standing = await access.load(ctx, node)
    standing.require_reader()
    if ctx.payload.find("options", NS_PUBSUB) is not None:
        raise pubsub_error("feature-not-implemented", "unsupported", feature="subscription-options")
    pubsub, service = access.store(ctx), access.service_of(ctx)
    current = next((s for s in await pubsub.subscriptions(service, node) if s.jid == jid), None)
    if current is not None:
        record = current  # subscribing again changes nothing (and approves nothing)
    elif standing.needs_approval():
        record = await pubsub.subscribe(service, node, jid, uuid.uuid4().hex, "pending")
        await authorize.ask_owners(ctx, record)
    else:
        record = await pubsub.subscribe(service, node, jid, uuid.uuid4().hex, "subscribed")
    reply = Element("pubsub", ns=NS_PUBSUB)
    reply.append(_subscription_element(record))
    return ctx.result(reply)


async def unsubscribe(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    jid = _subscriber(ctx, action, StanzaError("forbidden", "you may only unsubscribe yourself"))
    await access.load(ctx, node)
    pubsub, service = access.store(ctx), access.service_of(ctx)
    current = next((s for s in await pubsub.subscriptions(service, node) if s.jid == jid), None)
    if current is None:
        raise pubsub_error("unexpected-request", "not-subscribed", f"{jid} is not subscribed")
    subid = action.get("subid")
    if subid and subid != current.subid:
        raise pubsub_error("not-acceptable", "invalid-subid", "no subscription with that subid")
    await pubsub.unsubscribe(service, node, jid)
    return ctx.result()


async def own_subscriptions(ctx: IqContext, action: Element) -> Element:
    node = action.get("node") or ""
    reply = Element("pubsub", ns=NS_PUBSUB)
    listed = reply.add("subscriptions", {"node": node} if node else {})
    for record in await access.store(ctx).subscriptions_of(access.service_of(ctx), ctx.user):
        if not node or record.node == node:
            listed.append(_subscription_element(record))
    return ctx.result(reply)


async def own_affiliations(ctx: IqContext, action: Element) -> Element:
    node = action.get("node") or ""
    reply = Element("pubsub", ns=NS_PUBSUB)
    listed = reply.add("affiliations", {"node": node} if node else {})
    for name, affiliation in await access.store(ctx).affiliations_of(access.service_of(ctx), ctx.user):
        if not node or name == node:
            listed.add("affiliation", {"node": name, "affiliation": affiliation})
    return ctx.result(reply)
