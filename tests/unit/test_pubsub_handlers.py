"""The pubsub module's use cases called directly over memory stores: replies, stored state, events, errors."""

from __future__ import annotations

import pytest

from tests.unit.module_fakes import Fakes
from tests.unit.module_harness import iq
from tigase_py.server import jid as jids
from tigase_py.server.core.capabilities import ServerSettings
from tigase_py.server.core.module import ModuleContext, StanzaContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules import pubsub
from tigase_py.server.modules.pubsub.errors import NS_ERRORS
from tigase_py.server.storage.memory import MemoryStorage
from tigase_py.server.stores.pubsub import PUBSUB
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment

SVC = "pubsub.example.com"
PS = "http://jabber.org/protocol/pubsub"
OWNER = "http://jabber.org/protocol/pubsub#owner"
EVENT = "http://jabber.org/protocol/pubsub#event"
ALICE = "alice@example.com/pc"
BOB = "bob@example.com/phone"
ADMIN = "root@example.com/console"
FORM = (
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE' type='hidden'><value>{ns}</value></field>{fields}</x>"
)


def field(var: str, value: str) -> str:
    return f"<field var='pubsub#{var}'><value>{value}</value></field>"


def config_form(**values: str) -> str:
    fields = "".join(field(k, v) for k, v in values.items())
    return FORM.format(ns="http://jabber.org/protocol/pubsub#node_config", fields=fields)


@pytest.fixture
def setup() -> tuple[ModuleContext, MemoryStorage, list[Element]]:
    storage = MemoryStorage()
    fakes = Fakes(settings=ServerSettings(admins=frozenset({"root@example.com"})), storage=storage)
    return fakes.context(pubsub.module, "example.com"), storage, fakes.routed


async def call(ctx: ModuleContext, sender: str, iq_type: str, body: str, namespace: str = PS) -> Element:
    stanza = iq(
        ctx, f"<iq type='{iq_type}' id='q' from='{sender}' to='{SVC}'><pubsub xmlns='{namespace}'>{body}</pubsub></iq>"
    )
    handler = {
        ("set", PS): pubsub.user_set,
        ("get", PS): pubsub.user_get,
        ("get", OWNER): pubsub.owner_get,
        ("set", OWNER): pubsub.owner_set,
    }[iq_type, namespace]
    return await handler(stanza)


async def refused(ctx: ModuleContext, sender: str, iq_type: str, body: str, namespace: str = PS) -> tuple[str, str]:
    with pytest.raises(StanzaError) as caught:
        await call(ctx, sender, iq_type, body, namespace)
    app = caught.value.app_condition
    return caught.value.condition, (app.name if app is not None and app.ns == NS_ERRORS else "")


async def test_create_publish_notify_retrieve_retract(
    setup: tuple[ModuleContext, MemoryStorage, list[Element]],
) -> None:
    ctx, storage, routed = setup
    form = config_form(max_items="2", title="News", notify_retract="1")
    await call(ctx, ALICE, "set", f"<create node='news'/><configure>{form}</configure>")
    node = await storage.store(PUBSUB).get_node(SVC, "news")
    assert (
        node is not None
        and node.owner == "alice@example.com"
        and node.config == {"max_items": 2, "title": "News", "notify_retract": True}
    )
    reply = await call(ctx, BOB, "set", f"<subscribe node='news' jid='{BOB}'/>")
    subscription = reply.find("pubsub", PS).find("subscription")  # type: ignore[union-attr]
    assert subscription is not None and subscription.get("subscription") == "subscribed" and subscription.get("subid")
    for number in (1, 2, 3):
        published = await call(
            ctx,
            ALICE,
            "set",
            f"<publish node='news'><item id='i{number}'><p xmlns='urn:x'>{number}</p></item></publish>",
        )
        assert published.find("pubsub", PS).find("publish").find("item").get("id") == f"i{number}"  # type: ignore[union-attr]
    assert len(routed) == 3
    event = routed[-1]
    assert event.get("to") == BOB and event.get("from") == SVC and event.get("type") == "headline"
    item = event.find("event", EVENT).find("items").find("item")  # type: ignore[union-attr]
    assert item is not None and item.get("id") == "i3" and item.find_text("p", "urn:x") == "3"
    items = await call(ctx, BOB, "get", "<items node='news'/>")
    assert [i.get("id") for i in items.find("pubsub", PS).find("items").elements()] == ["i2", "i3"]  # type: ignore[union-attr]
    newest = await call(ctx, BOB, "get", "<items node='news' max_items='1'/>")
    assert [i.get("id") for i in newest.find("pubsub", PS).find("items").elements()] == ["i3"]  # type: ignore[union-attr]
    instant = await call(ctx, ALICE, "set", "<publish node='news'><item><p xmlns='urn:x'/></item></publish>")
    assert instant.find("pubsub", PS).find("publish").find("item").get("id")  # type: ignore[union-attr]
    await call(ctx, ALICE, "set", "<retract node='news' notify='true'><item id='i3'/></retract>")
    retract = routed[-1].find("event", EVENT).find("items").find("retract")  # type: ignore[union-attr]
    assert retract is not None and retract.get("id") == "i3"
    assert await refused(ctx, ALICE, "set", "<retract node='news'><item id='i3'/></retract>") == ("item-not-found", "")


async def test_refusals_name_the_xep_0060_errors(setup: tuple[ModuleContext, MemoryStorage, list[Element]]) -> None:
    ctx, _, _ = setup
    await call(ctx, ALICE, "set", "<create node='news'/>")
    assert await refused(ctx, BOB, "set", "<create node='news'/>") == ("conflict", "")
    assert await refused(ctx, ALICE, "set", "<publish><item/></publish>") == ("not-acceptable", "nodeid-required")
    assert await refused(ctx, ALICE, "set", "<publish node='ghost'><item><p xmlns='urn:x'/></item></publish>") == (
        "item-not-found",
        "",
    )
    assert await refused(ctx, BOB, "set", "<publish node='news'><item><p xmlns='urn:x'/></item></publish>") == (
        "forbidden",
        "",
    )
    assert await refused(ctx, ALICE, "set", "<publish node='news'><item/></publish>") == (
        "bad-request",
        "payload-required",
    )
    assert await refused(ctx, BOB, "set", "<delete node='news'/>", OWNER) == ("forbidden", "")
    assert await refused(ctx, BOB, "get", "<configure node='news'/>", OWNER) == ("forbidden", "")
    assert await refused(ctx, BOB, "set", "<subscribe node='news' jid='carol@example.com'/>") == (
        "bad-request",
        "invalid-jid",
    )
    assert await refused(ctx, BOB, "set", f"<unsubscribe node='news' jid='{BOB}'/>") == (
        "unexpected-request",
        "not-subscribed",
    )
    assert await refused(ctx, BOB, "set", "<options node='news' jid='bob@example.com'/>") == (
        "feature-not-implemented",
        "unsupported",
    )
    bad_access = f"<create node='x'/><configure>{config_form(access_model='presence')}</configure>"
    assert await refused(ctx, ALICE, "set", bad_access) == ("not-acceptable", "unsupported-access-model")
    assert await refused(ctx, "eve@elsewhere.net/x", "set", "<create node='y'/>") == ("forbidden", "")
    whitelist = f"<configure node='news'>{config_form(access_model='whitelist')}</configure>"
    await call(ctx, ALICE, "set", whitelist, OWNER)
    assert await refused(ctx, BOB, "set", f"<subscribe node='news' jid='{BOB}'/>") == ("not-allowed", "closed-node")
    assert await refused(ctx, BOB, "get", "<items node='news'/>") == ("not-allowed", "closed-node")
    await call(
        ctx,
        ALICE,
        "set",
        "<affiliations node='news'><affiliation jid='bob@example.com' affiliation='member'/></affiliations>",
        OWNER,
    )
    await call(ctx, BOB, "set", f"<subscribe node='news' jid='{BOB}'/>")
    await call(
        ctx,
        ALICE,
        "set",
        "<affiliations node='news'><affiliation jid='bob@example.com' affiliation='outcast'/></affiliations>",
        OWNER,
    )
    assert await refused(ctx, BOB, "get", "<items node='news'/>") == ("forbidden", "")
    last_owner = "<affiliations node='news'><affiliation jid='alice@example.com' affiliation='none'/></affiliations>"
    assert await refused(ctx, ALICE, "set", last_owner, OWNER) == ("not-acceptable", "")
    preconditions = FORM.format(
        ns="http://jabber.org/protocol/pubsub#publish-options", fields=field("access_model", "open")
    )
    options = f"<publish-options>{preconditions}</publish-options>"
    publish = f"<publish node='news'><item><p xmlns='urn:x'/></item></publish>{options}"
    assert await refused(ctx, ALICE, "set", publish) == ("conflict", "precondition-not-met")


async def test_owner_management_delete_and_admins(setup: tuple[ModuleContext, MemoryStorage, list[Element]]) -> None:
    ctx, storage, routed = setup
    instant = await call(ctx, ALICE, "set", "<create/>")
    node = instant.find("pubsub", PS).find("create").get("node")  # type: ignore[union-attr]
    assert node and await storage.store(PUBSUB).get_node(SVC, node) is not None
    await call(
        ctx,
        ALICE,
        "set",
        f"<subscriptions node='{node}'><subscription jid='{BOB}' subscription='subscribed'/></subscriptions>",
        OWNER,
    )
    listed = await call(ctx, ALICE, "get", f"<subscriptions node='{node}'/>", OWNER)
    assert [s.get("jid") for s in listed.find("pubsub", OWNER).find("subscriptions").elements()] == [BOB]  # type: ignore[union-attr]
    own = await call(ctx, BOB, "get", "<subscriptions/>")
    assert [s.get("node") for s in own.find("pubsub", PS).find("subscriptions").elements()] == [node]  # type: ignore[union-attr]
    affiliations = await call(ctx, ALICE, "get", "<affiliations/>")
    assert [
        (a.get("node"), a.get("affiliation")) for a in affiliations.find("pubsub", PS).find("affiliations").elements()
    ] == [(node, "owner")]  # type: ignore[union-attr]
    form = await call(ctx, ALICE, "get", f"<configure node='{node}'/>", OWNER)
    assert form.find("pubsub", OWNER).find("configure").find("x", "jabber:x:data") is not None  # type: ignore[union-attr]
    await call(ctx, ADMIN, "set", f"<delete node='{node}'><redirect uri='xmpp:{SVC}?;node=elsewhere'/></delete>", OWNER)
    deleted = routed[-1].find("event", EVENT).find("delete")  # type: ignore[union-attr]
    assert deleted is not None and deleted.get("node") == node and deleted.find("redirect") is not None
    assert routed[-1].get("to") == BOB
    assert await storage.store(PUBSUB).get_node(SVC, node) is None


async def test_node_options_shape_notifications_and_storage(
    setup: tuple[ModuleContext, MemoryStorage, list[Element]],
) -> None:
    ctx, storage, routed = setup
    quiet = config_form(deliver_payloads="0", notify_retract="0")
    await call(ctx, ALICE, "set", f"<create node='quiet'/><configure>{quiet}</configure>")
    await call(ctx, BOB, "set", f"<subscribe node='quiet' jid='{BOB}'/>")
    await call(ctx, ALICE, "set", "<publish node='quiet'><item id='x'><p xmlns='urn:x'>secret</p></item></publish>")
    item = routed[-1].find("event", EVENT).find("items").find("item")  # type: ignore[union-attr]
    assert item is not None and item.get("id") == "x" and item.first_child() is None  # no payload in the event
    stored = await storage.store(PUBSUB).items(SVC, "quiet")
    assert [i.payload for i in stored] == ['<p xmlns="urn:x">secret</p>']
    await call(ctx, ALICE, "set", "<retract node='quiet'><item id='x'/></retract>")
    assert len(routed) == 1  # notify_retract off and no notify attribute
    await call(ctx, ALICE, "set", "<publish node='quiet'><item id='y'><p xmlns='urn:x'/></item></publish>")
    await call(ctx, ALICE, "set", "<purge node='quiet'/>", OWNER)
    assert routed[-1].find("event", EVENT).find("purge").get("node") == "quiet"  # type: ignore[union-attr]
    assert await storage.store(PUBSUB).items(SVC, "quiet") == []

    transient = config_form(persist_items="0", deliver_payloads="0")
    await call(ctx, ALICE, "set", f"<create node='pings'/><configure>{transient}</configure>")
    await call(ctx, ALICE, "set", "<publish node='pings'><item id='p1'/></publish>")
    assert await storage.store(PUBSUB).items(SVC, "pings") == []
    assert await refused(ctx, ALICE, "set", "<publish node='pings'><item><p xmlns='urn:x'/></item></publish>") == (
        "bad-request",
        "item-forbidden",
    )
    assert await refused(ctx, ALICE, "get", "<items node='pings'/>") == ("feature-not-implemented", "unsupported")

    outcast = "<affiliations node='quiet'><affiliation jid='bob@example.com' affiliation='outcast'/></affiliations>"
    await call(ctx, ALICE, "set", outcast, OWNER)
    assert await storage.store(PUBSUB).subscriptions(SVC, "quiet") == []
    assert await refused(ctx, BOB, "set", f"<subscribe node='quiet' jid='{BOB}'/>") == ("forbidden", "")
    publisher = (
        "<affiliations node='pings'><affiliation jid='bob@example.com' affiliation='publish-only'/></affiliations>"
    )
    await call(ctx, ALICE, "set", publisher, OWNER)
    await call(ctx, BOB, "set", "<publish node='pings'><item id='b'/></publish>")
    assert await refused(ctx, BOB, "set", f"<subscribe node='pings' jid='{BOB}'/>") == ("forbidden", "")
    assert await refused(ctx, BOB, "set", "<purge node='pings'/>", OWNER) == ("forbidden", "")


def message_context(ctx: ModuleContext, xml: str) -> StanzaContext:
    stanza = parse_fragment(xml)
    return StanzaContext(ctx, stanza, jids.parse(stanza.attrs["from"]), jids.parse(stanza.attrs["to"]), None)


def decision(allow: str, node: str = "club", subscriber: str = BOB) -> str:
    fields = (
        f"<field var='pubsub#node'><value>{node}</value></field>"
        f"<field var='pubsub#subscriber_jid'><value>{subscriber}</value></field>"
        f"<field var='pubsub#allow'><value>{allow}</value></field>"
    )
    form = FORM.format(ns="http://jabber.org/protocol/pubsub#subscribe_authorization", fields=fields)
    return f"<message from='{{sender}}' to='{SVC}'>{form}</message>"


async def test_authorize_model_keeps_subscriptions_pending_until_an_owner_approves(
    setup: tuple[ModuleContext, MemoryStorage, list[Element]],
) -> None:
    ctx, storage, routed = setup
    await call(
        ctx, ALICE, "set", f"<create node='club'/><configure>{config_form(access_model='authorize')}</configure>"
    )
    reply = await call(ctx, BOB, "set", f"<subscribe node='club' jid='{BOB}'/>")
    assert reply.find("pubsub", PS).find("subscription").get("subscription") == "pending"  # type: ignore[union-attr]
    request = routed[-1]
    assert request.get("to") == "alice@example.com" and request.get("from") == SVC
    form = request.find("x", "jabber:x:data")
    assert form is not None and "pubsub#subscribe_authorization" in form.to_str() and BOB in form.to_str()
    assert await refused(ctx, BOB, "get", "<items node='club'/>") == ("not-authorized", "not-subscribed")
    await call(ctx, ALICE, "set", "<publish node='club'><item id='1'><p xmlns='urn:x'/></item></publish>")
    assert routed[-1] is request  # nothing for a pending subscriber

    await pubsub.owner_decision(message_context(ctx, decision("1").format(sender=BOB)))  # not an owner
    assert (await storage.store(PUBSUB).subscriptions(SVC, "club"))[0].state == "pending"
    await pubsub.owner_decision(message_context(ctx, decision("1").format(sender=ALICE)))
    assert (await storage.store(PUBSUB).subscriptions(SVC, "club"))[0].state == "subscribed"
    told = routed[-1].find("event", EVENT).find("subscription")  # type: ignore[union-attr]
    assert told is not None and (told.get("jid"), told.get("subscription")) == (BOB, "subscribed")
    items = await call(ctx, BOB, "get", "<items node='club'/>")
    assert [i.get("id") for i in items.find("pubsub", PS).find("items").elements()] == ["1"]  # type: ignore[union-attr]

    carol = "carol@example.com/home"
    await call(ctx, carol, "set", f"<subscribe node='club' jid='{carol}'/>")
    await pubsub.owner_decision(message_context(ctx, decision("0", subscriber=carol).format(sender=ALICE)))
    assert [s.jid for s in await storage.store(PUBSUB).subscriptions(SVC, "club")] == [BOB]
    assert routed[-1].find("event", EVENT).find("subscription").get("subscription") == "none"  # type: ignore[union-attr]


async def test_node_creation_is_bounded_per_account_but_not_for_admins() -> None:
    fakes = Fakes(settings=ServerSettings(admins=frozenset({"root@example.com"})), storage=MemoryStorage())
    ctx = fakes.context(pubsub.module, "example.com", {"max_nodes_per_account": 2})
    for name in ("a", "b"):
        await call(ctx, ALICE, "set", f"<create node='{name}'/>")
    assert await refused(ctx, ALICE, "set", "<create node='c'/>") == ("resource-constraint", "")
    await call(ctx, BOB, "set", "<create node='c'/>")  # the bound is per account
    for name in ("d", "e", "f"):
        await call(ctx, ADMIN, "set", f"<create node='{name}'/>")
