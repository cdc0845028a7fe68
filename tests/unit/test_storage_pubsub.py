"""The pubsub store's contract, asserted alike in memory, on SQLite and on MariaDB."""

from __future__ import annotations

from tigase_py.server.storage.spec import Stores
from tigase_py.server.stores.pubsub import PUBSUB, PubSubStore
from tigase_py.server.stores.pubsub_records import SubscriptionRecord

SVC = "pubsub.example.com"
OTHER = "pubsub.example.org"
ALICE = "alice@example.com"
BOB = "bob@example.com"


async def test_nodes_create_configure_list_delete(feature_stores: Stores) -> None:
    pubsub = feature_stores.get(PUBSUB)
    assert isinstance(pubsub, PubSubStore)
    assert await pubsub.get_node(SVC, "news") is None
    assert await pubsub.create_node(SVC, "news", ALICE, {"max_items": 3, "title": "News"})
    assert not await pubsub.create_node(SVC, "news", BOB, {})
    assert await pubsub.create_node(SVC, "alerts", BOB, {})
    assert await pubsub.create_node(OTHER, "news", BOB, {})
    node = await pubsub.get_node(SVC, "news")
    assert node is not None and (node.owner, node.config) == (ALICE, {"max_items": 3, "title": "News"})
    await pubsub.configure_node(SVC, "news", {"max_items": 5})
    assert (await pubsub.get_node(SVC, "news")).config == {"max_items": 5}  # type: ignore[union-attr]
    assert await pubsub.list_nodes(SVC, None, None) == (["alerts", "news"], 2)
    assert await pubsub.list_nodes(SVC, "alerts", 10) == (["news"], 2)
    assert await pubsub.list_nodes(SVC, None, 1) == (["alerts"], 2)
    assert (await pubsub.count_created(SVC, ALICE), await pubsub.count_created(SVC, BOB)) == (1, 1)
    assert await pubsub.count_created(OTHER, ALICE) == 0
    assert await pubsub.affiliations(SVC, "news") == {ALICE: "owner"}
    await pubsub.publish(SVC, "news", "i1", ALICE, "<x xmlns='urn:x'/>", None)
    await pubsub.subscribe(SVC, "news", BOB, "s1", "subscribed")
    assert await pubsub.delete_node(SVC, "news")
    assert not await pubsub.delete_node(SVC, "news")
    assert await pubsub.get_node(SVC, "news") is None
    assert await pubsub.subscriptions_of(SVC, BOB) == []
    assert await pubsub.create_node(SVC, "news", BOB, {})  # a new node of that name starts empty
    assert await pubsub.items(SVC, "news") == []
    assert await pubsub.affiliations(SVC, "news") == {BOB: "owner"}
    assert (await pubsub.get_node(OTHER, "news")) is not None


async def test_affiliations_and_subscriptions(feature_stores: Stores) -> None:
    pubsub = feature_stores.get(PUBSUB)
    await pubsub.create_node(SVC, "a", ALICE, {})
    await pubsub.create_node(SVC, "b", ALICE, {})
    await pubsub.set_affiliation(SVC, "a", BOB, "publisher")
    await pubsub.set_affiliation(SVC, "b", BOB, "outcast")
    assert await pubsub.affiliations_of(SVC, BOB) == [("a", "publisher"), ("b", "outcast")]
    await pubsub.set_affiliation(SVC, "b", BOB, "none")
    assert await pubsub.affiliations(SVC, "b") == {ALICE: "owner"}

    first = await pubsub.subscribe(SVC, "a", f"{BOB}/phone", "s1", "pending")
    assert first == SubscriptionRecord("a", f"{BOB}/phone", "s1", "pending")
    again = await pubsub.subscribe(SVC, "a", f"{BOB}/phone", "s9", "subscribed")
    assert again == SubscriptionRecord("a", f"{BOB}/phone", "s1", "subscribed")  # keeps its subid
    await pubsub.subscribe(SVC, "a", BOB, "s2", "subscribed")
    await pubsub.subscribe(SVC, "b", ALICE, "s3", "subscribed")
    assert [s.jid for s in await pubsub.subscriptions(SVC, "a")] == [BOB, f"{BOB}/phone"]
    assert [(s.node, s.subid) for s in await pubsub.subscriptions_of(SVC, BOB)] == [("a", "s2"), ("a", "s1")]
    assert await pubsub.unsubscribe(SVC, "a", f"{BOB}/phone")
    assert not await pubsub.unsubscribe(SVC, "a", f"{BOB}/phone")
    assert [s.jid for s in await pubsub.subscriptions(SVC, "a")] == [BOB]


async def test_items_publish_replace_trim_retract_purge(feature_stores: Stores) -> None:
    pubsub = feature_stores.get(PUBSUB)
    await pubsub.create_node(SVC, "n", ALICE, {})
    for number in range(1, 5):
        await pubsub.publish(SVC, "n", f"i{number}", ALICE, f"<p xmlns='urn:x'>{number}</p>", 3)
    assert [i.item_id for i in await pubsub.items(SVC, "n")] == ["i2", "i3", "i4"]  # oldest trimmed
    await pubsub.publish(SVC, "n", "i2", BOB, "<p xmlns='urn:x'>again</p>", 3)  # replaced: now the newest
    items = await pubsub.items(SVC, "n")
    assert [(i.item_id, i.publisher) for i in items] == [("i3", ALICE), ("i4", ALICE), ("i2", BOB)]
    assert items[-1].payload == "<p xmlns='urn:x'>again</p>"
    assert [i.item_id for i in await pubsub.items(SVC, "n", newest=2)] == ["i4", "i2"]
    assert [i.item_id for i in await pubsub.items(SVC, "n", ids=["i3", "zz"])] == ["i3"]
    assert await pubsub.retract(SVC, "n", "i3")
    assert not await pubsub.retract(SVC, "n", "i3")
    await pubsub.purge(SVC, "n")
    assert await pubsub.items(SVC, "n") == []


async def test_account_deletion_takes_created_nodes_and_own_rows(feature_stores: Stores) -> None:
    pubsub = feature_stores.get(PUBSUB)
    await pubsub.create_node(SVC, "alices", ALICE, {})
    await pubsub.create_node(SVC, "bobs", BOB, {})
    await pubsub.publish(SVC, "alices", "b1", BOB, "<p xmlns='urn:x'/>", None)  # Bob's item in Alice's node
    await pubsub.publish(SVC, "bobs", "a1", ALICE, "<p xmlns='urn:x'/>", None)
    await pubsub.publish(SVC, "bobs", "b2", BOB, "<p xmlns='urn:x'/>", None)
    await pubsub.subscribe(SVC, "bobs", f"{ALICE}/pc", "s1", "subscribed")
    await pubsub.set_affiliation(SVC, "bobs", ALICE, "publisher")
    await feature_stores.delete_account(ALICE, None)
    assert await pubsub.get_node(SVC, "alices") is None
    assert [i.item_id for i in await pubsub.items(SVC, "bobs")] == ["b2"]
    assert await pubsub.subscriptions(SVC, "bobs") == []
    assert await pubsub.affiliations(SVC, "bobs") == {BOB: "owner"}
    assert await pubsub.export_account(ALICE) == []
    assert [row["kind"] for row in await pubsub.export_account(BOB)] == ["affiliation", "item", "node"]
