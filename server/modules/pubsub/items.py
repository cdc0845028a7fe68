"""Publisher and subscriber use cases on items (XEP-0060 7.1, 7.2, 6.5): publish, retract, retrieve."""

from __future__ import annotations

import uuid

from tigase_py.server.core.module import IqContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub import access
from tigase_py.server.modules.pubsub.declaration import NS_PUBSUB
from tigase_py.server.modules.pubsub.errors import pubsub_error, unsupported
from tigase_py.server.modules.pubsub.node_config import check_preconditions
from tigase_py.server.modules.pubsub.notify import notify
from tigase_py.server.stores.pubsub_records import ITEM_ID_LIMIT, ItemRecord
from tigase_py.server.xml import forms
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import FragmentError, parse_fragment


def _item_element(item_id: str, payload: str, with_payload: bool = True) -> Element:
    element = Element("item", {"id": item_id})
    if with_payload and payload:
        try:
            element.append(parse_fragment(payload))
        except FragmentError:
            pass  # stored by this module from a parsed stanza: cannot happen short of a corrupt row
    return element


async def _subscribed(ctx: IqContext, node: str) -> bool:
    subscriptions = await access.store(ctx).subscriptions_of(access.service_of(ctx), ctx.user)
    return any(s.node == node and s.state == "subscribed" for s in subscriptions)


async def publish(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 7.1; the node must exist (auto-create is PEP's)."""
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_publisher(await _subscribed(ctx, node))
    items = action.find_all("item", NS_PUBSUB)
    if len(items) > 1:
        raise pubsub_error("bad-request", "invalid-payload", "publish one item at a time")
    item = items[0] if items else None
    payloads = [] if item is None else list(item.elements())
    if len(payloads) > 1:
        raise pubsub_error("bad-request", "invalid-payload", "an item carries one payload element")
    config = standing.config
    if not payloads and (config["persist_items"] or config["deliver_payloads"]):
        raise pubsub_error("bad-request", "payload-required", "this node needs a payload")
    if payloads and not config["persist_items"] and not config["deliver_payloads"]:
        raise pubsub_error("bad-request", "item-forbidden", "this node takes no payloads")
    options = ctx.payload.find("publish-options", NS_PUBSUB)
    if options is not None:
        try:
            form = forms.find(options)
        except forms.FormError as exc:
            raise StanzaError("bad-request", str(exc)) from exc
        if form is not None:
            check_preconditions(standing.record.config, form)
    item_id = (item.get("id") if item is not None else None) or uuid.uuid4().hex
    if len(item_id) > ITEM_ID_LIMIT:
        raise StanzaError("not-acceptable", f"item ids are limited to {ITEM_ID_LIMIT} characters")
    payload = payloads[0].to_str() if payloads else ""
    if config["persist_items"]:
        await access.store(ctx).publish(
            access.service_of(ctx), node, item_id, ctx.user, payload, int(config["max_items"])
        )
    event = Element("items", {"node": node})
    event.append(_item_element(item_id, payload, bool(config["deliver_payloads"])))
    await notify(ctx, node, event)
    reply = Element("pubsub", ns=NS_PUBSUB)
    reply.add("publish", {"node": node}).add("item", {"id": item_id})
    return ctx.result(reply)


async def retract(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 7.2: owners and publishers retract any item, publish-only publishers their own."""
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    item = action.find("item", NS_PUBSUB)
    item_id = item.get("id") if item is not None else None
    if not item_id:
        raise pubsub_error("bad-request", "item-required", "name the item to retract")
    if not standing.config["persist_items"]:
        raise unsupported("persistent-items", "this node keeps no items")
    pubsub, service = access.store(ctx), access.service_of(ctx)
    found = await pubsub.items(service, node, ids=[item_id])
    if not found:
        raise StanzaError("item-not-found", f"no item {item_id!r}")
    own = found[0].publisher == ctx.user
    own_only = standing.affiliation == "publish-only" and own
    if not (standing.is_owner or standing.affiliation == "publisher" or own_only):
        raise StanzaError("forbidden", "you may not retract items of this node")
    await pubsub.retract(service, node, item_id)
    notify_attr = (action.get("notify") or "").lower()
    if notify_attr in ("1", "true") or (notify_attr == "" and standing.config["notify_retract"]):
        event = Element("items", {"node": node})
        event.add("retract", {"id": item_id})
        await notify(ctx, node, event)
    return ctx.result()


async def retrieve(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 6.5: every item, the newest ``max_items``, or those named, oldest first."""
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_reader(await _subscribed(ctx, node))
    if not standing.config["persist_items"]:
        raise unsupported("persistent-items", "this node keeps no items")
    if action.get("subid"):
        raise unsupported("subscription-options", "items per subscription are not supported")
    ids = [i.get("id") or "" for i in action.find_all("item", NS_PUBSUB)]
    newest = None
    if action.get("max_items") is not None:
        text = action.get("max_items") or ""
        if not text.isdigit():
            raise StanzaError("bad-request", "max_items must be a number")
        newest = int(text)
    found: list[ItemRecord] = await access.store(ctx).items(
        access.service_of(ctx), node, ids=[i for i in ids if i] or None, newest=newest
    )
    if ids and not found:
        raise StanzaError("item-not-found", "no item with that id")
    reply = Element("pubsub", ns=NS_PUBSUB)
    listed = reply.add("items", {"node": node})
    for record in found:
        listed.append(_item_element(record.item_id, record.payload))
    return ctx.result(reply)
