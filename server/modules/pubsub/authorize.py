"""The ``authorize`` access model (XEP-0060 6.1.2 and 8.6): a subscription stays ``pending`` until an
owner approves it, by the authorization form sent to every owner or through subscription management."""

from __future__ import annotations

from tigase_py.server import jid as jids
from tigase_py.server.core.module import StanzaContext
from tigase_py.server.modules.pubsub import access
from tigase_py.server.modules.pubsub.declaration import NS_EVENT
from tigase_py.server.stores.pubsub_records import SubscriptionRecord
from tigase_py.server.xml import forms, ns
from tigase_py.server.xml.element import Element

NS_AUTHORIZATION = "http://jabber.org/protocol/pubsub#subscribe_authorization"


def authorization_form(record: SubscriptionRecord) -> Element:
    return forms.build(
        forms.Form(
            "form",
            title="PubSub subscriber request",
            fields=[
                forms.Field("FORM_TYPE", "hidden", values=[NS_AUTHORIZATION]),
                forms.Field("pubsub#subid", "hidden", values=[record.subid]),
                forms.Field("pubsub#node", "text-single", "Node ID", [record.node]),
                forms.Field("pubsub#subscriber_jid", "jid-single", "Subscriber Address", [record.jid]),
                forms.Field("pubsub#allow", "boolean", "Allow this JID to subscribe?", ["false"]),
            ],
        )
    )


async def ask_owners(ctx: StanzaContext, record: SubscriptionRecord) -> None:
    """Send the authorization form to each owner of the node (XEP-0060 8.6.1)."""
    service = access.service_of(ctx)
    for jid, affiliation in sorted((await access.store(ctx).affiliations(service, record.node)).items()):
        if affiliation == "owner":
            message = Element("message", {"from": service, "to": jid})
            message.append(authorization_form(record))
            await ctx.route(message)


async def tell_subscriber(ctx: StanzaContext, record: SubscriptionRecord, state: str) -> None:
    """XEP-0060 8.6.2: the subscriber learns the owner's decision."""
    message = Element("message", {"from": access.service_of(ctx), "to": record.jid})
    attrs = {"node": record.node, "jid": record.jid, "subscription": state}
    message.add("event", ns=NS_EVENT).add("subscription", attrs)
    await ctx.route(message)


def _allowed(value: object) -> bool:
    """The ``pubsub#allow`` value, typed boolean or not in the submitted form; anything unclear denies."""
    if isinstance(value, bool):
        return value
    try:
        return isinstance(value, str) and forms.parse_bool(value)
    except ValueError:
        return False


async def answer_form(ctx: StanzaContext) -> None:
    """An owner's submitted authorization form: approve or deny the pending subscription it names.

    Forms from non-owners, for unknown nodes or for subscriptions that are not pending are ignored
    (a message gets no error reply here)."""
    x = ctx.stanza.find("x", ns.DATA_FORMS)
    if x is None:
        return
    try:
        form = forms.parse(x)
    except forms.FormError:
        return
    if form.type != "submit" or form.form_type != NS_AUTHORIZATION:
        return
    values = form.values()
    node, subscriber = str(values.get("pubsub#node") or ""), str(values.get("pubsub#subscriber_jid") or "")
    if not node or not subscriber:
        return
    record = await access.store(ctx).get_node(access.service_of(ctx), node)
    affiliations = await access.store(ctx).affiliations(access.service_of(ctx), node) if record else {}
    if record is None or (affiliations.get(ctx.user) != "owner" and not access.is_admin(ctx)):
        return
    try:
        subscriber = str(jids.parse(subscriber))
    except ValueError:
        return
    pubsub, service = access.store(ctx), access.service_of(ctx)
    pending = next((s for s in await pubsub.subscriptions(service, node) if s.jid == subscriber), None)
    if pending is None or pending.state != "pending":
        return
    if _allowed(values.get("pubsub#allow")):
        await pubsub.subscribe(service, node, subscriber, pending.subid, "subscribed")
        await tell_subscriber(ctx, pending, "subscribed")
    else:
        await pubsub.unsubscribe(service, node, subscriber)
        await tell_subscriber(ctx, pending, "none")
