"""Owner use cases (XEP-0060 section 8): create, configure, default options, delete, purge, and the
owner's management of affiliations and subscriptions."""

from __future__ import annotations

import uuid

from tigase_py.server import jid as jids
from tigase_py.server.core.module import IqContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub import access
from tigase_py.server.modules.pubsub.declaration import NS_OWNER, NS_PUBSUB
from tigase_py.server.modules.pubsub.errors import pubsub_error, unsupported
from tigase_py.server.modules.pubsub.node_config import apply_form, config_form, with_defaults
from tigase_py.server.modules.pubsub.notify import notify
from tigase_py.server.stores.pubsub_records import NODE_NAME_LIMIT
from tigase_py.server.xml import forms, ns
from tigase_py.server.xml.element import Element


def _submitted_form(configure: Element | None) -> forms.Form | None:
    if configure is None:
        return None
    try:
        form = forms.find(configure)
    except forms.FormError as exc:
        raise StanzaError("bad-request", str(exc)) from exc
    return None if form is None or form.type == "cancel" else form


async def create(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 8.1: named or instant node, with an optional ``<configure/>`` form."""
    access.require_local_creator(ctx)
    node = action.get("node") or ""
    instant = not node
    if instant:
        node = uuid.uuid4().hex
    if len(node) > NODE_NAME_LIMIT:
        raise StanzaError("not-acceptable", f"node names are limited to {NODE_NAME_LIMIT} characters")
    limit = ctx.config.max_nodes_per_account
    if not access.is_admin(ctx) and await access.store(ctx).count_created(access.service_of(ctx), ctx.user) >= limit:
        raise StanzaError("resource-constraint", f"an account may create at most {limit} nodes here")
    config: dict[str, object] = {}
    form = _submitted_form(ctx.payload.find("configure", NS_PUBSUB))
    if form is not None:
        config = apply_form(config, form)
    if not await access.store(ctx).create_node(access.service_of(ctx), node, ctx.user, config):
        raise StanzaError("conflict", f"node {node!r} exists already")
    if not instant:
        return ctx.result()
    reply = Element("pubsub", ns=NS_PUBSUB)
    reply.add("create", {"node": node})
    return ctx.result(reply)


async def configure_get(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_owner()
    reply = Element("pubsub", ns=NS_OWNER)
    reply.add("configure", {"node": node}).append(forms.build(config_form(standing.record.config)))
    return ctx.result(reply)


async def configure_set(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_owner()
    form = _submitted_form(action)
    if form is None:
        if action.find("x", ns.DATA_FORMS) is None:
            raise StanzaError("bad-request", "a configure request needs a data form")
        return ctx.result()  # a cancelled form changes nothing
    config = apply_form(standing.record.config, form)
    await access.store(ctx).configure_node(access.service_of(ctx), node, config)
    if with_defaults(config)["notify_config"]:
        await notify(ctx, node, Element("configuration", {"node": node}))
    return ctx.result()


async def default_get(ctx: IqContext, _action: Element) -> Element:
    reply = Element("pubsub", ns=NS_OWNER)
    reply.add("default").append(forms.build(config_form({})))
    return ctx.result(reply)


async def delete(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 8.4: subscribers are told (with the redirect URI when one is given) before it goes."""
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_owner()
    if standing.config["notify_delete"]:
        event = Element("delete", {"node": node})
        redirect = action.find("redirect", NS_OWNER)
        if redirect is not None and redirect.get("uri"):
            event.add("redirect", {"uri": redirect.get("uri") or ""})
        await notify(ctx, node, event)
    await access.store(ctx).delete_node(access.service_of(ctx), node)
    return ctx.result()


async def purge(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    standing = await access.load(ctx, node)
    standing.require_owner()
    if not standing.config["persist_items"]:
        raise unsupported("persistent-items", "this node keeps no items")
    await access.store(ctx).purge(access.service_of(ctx), node)
    await notify(ctx, node, Element("purge", {"node": node}))
    return ctx.result()


def _jid_attr(element: Element) -> str:
    try:
        return str(jids.parse(element.get("jid") or ""))
    except ValueError as exc:
        raise pubsub_error("bad-request", "invalid-jid", "the jid attribute is not a JID") from exc


async def affiliations_get(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    (await access.load(ctx, node)).require_owner()
    reply = Element("pubsub", ns=NS_OWNER)
    listed = reply.add("affiliations", {"node": node})
    for jid, affiliation in sorted((await access.store(ctx).affiliations(access.service_of(ctx), node)).items()):
        listed.add("affiliation", {"jid": jid, "affiliation": affiliation})
    return ctx.result(reply)


async def affiliations_set(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 8.9.2; a change that would leave the node without an owner is refused (not-acceptable)."""
    node = access.node_name(action)
    (await access.load(ctx, node)).require_owner()
    pubsub, service = access.store(ctx), access.service_of(ctx)
    changes: dict[str, str] = {}
    for item in action.find_all("affiliation", NS_OWNER):
        affiliation = item.get("affiliation") or ""
        if affiliation not in access.AFFILIATIONS:
            raise StanzaError("bad-request", f"unknown affiliation {affiliation!r}")
        changes[jids.parse(_jid_attr(item)).bare_str] = affiliation
    current = await pubsub.affiliations(service, node)
    after = {**current, **changes}
    if "owner" not in after.values():
        raise StanzaError("not-acceptable", "a node needs at least one owner")
    for jid, affiliation in changes.items():
        await pubsub.set_affiliation(service, node, jid, affiliation)
        if affiliation == "outcast":
            for subscription in await pubsub.subscriptions(service, node):
                if jids.parse(subscription.jid).bare_str == jid:
                    await pubsub.unsubscribe(service, node, subscription.jid)
    return ctx.result()


async def subscriptions_get(ctx: IqContext, action: Element) -> Element:
    node = access.node_name(action)
    (await access.load(ctx, node)).require_owner()
    reply = Element("pubsub", ns=NS_OWNER)
    listed = reply.add("subscriptions", {"node": node})
    for record in await access.store(ctx).subscriptions(access.service_of(ctx), node):
        listed.add("subscription", {"jid": record.jid, "subscription": record.state, "subid": record.subid})
    return ctx.result(reply)


async def subscriptions_set(ctx: IqContext, action: Element) -> Element:
    """XEP-0060 8.8.2: ``subscribed`` adds or approves, ``none`` removes."""
    node = access.node_name(action)
    (await access.load(ctx, node)).require_owner()
    pubsub, service = access.store(ctx), access.service_of(ctx)
    for item in action.find_all("subscription", NS_OWNER):
        jid = _jid_attr(item)
        state = item.get("subscription") or ""
        if state == "none":
            await pubsub.unsubscribe(service, node, jid)
        elif state == "subscribed":
            await pubsub.subscribe(service, node, jid, uuid.uuid4().hex, state)
        else:
            raise StanzaError("bad-request", f"unsupported subscription state {state!r}")
    return ctx.result()
