"""Store contracts: each feature store's behaviour, asserted alike in memory, on SQLite and on MariaDB.

The vhosts store is core and SQL only.
"""

from __future__ import annotations

import asyncio

import pytest

from tigase_py.server.storage.engine import Storage
from tigase_py.server.storage.memory import MemoryStorage
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import Stores
from tigase_py.server.stores.blocking import BLOCKING
from tigase_py.server.stores.last_activity import LAST_ACTIVITY
from tigase_py.server.stores.offline import OFFLINE
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.stores.user_xml import USER_XML

ALICE = "alice@example.com"
BOB = "bob@example.com"


async def test_vhosts(storage: Storage) -> None:
    assert await storage.vhosts.list() == []
    assert await storage.vhosts.add("example.org")
    assert await storage.vhosts.add("example.com")
    assert not await storage.vhosts.add("example.com")
    assert await storage.vhosts.list() == ["example.com", "example.org"]
    assert await storage.vhosts.exists("example.com")
    assert await storage.vhosts.remove("example.com")
    assert not await storage.vhosts.remove("example.com")
    assert not await storage.vhosts.exists("example.com")
    assert await storage.vhosts.list() == ["example.org"]


async def test_roster_put_get_replace(feature_stores: Stores) -> None:
    roster = feature_stores.get(ROSTER)
    assert await roster.get_items(ALICE) == []
    assert await roster.get_item(ALICE, BOB) is None
    bob = RosterItem(BOB, name="Bob", subscription="both", groups=("Friends", "Work", "Friends"))
    await roster.put_item(ALICE, bob)
    stored = await roster.get_item(ALICE, BOB)
    assert stored == RosterItem(BOB, name="Bob", subscription="both", groups=("Friends", "Work"))
    carol = RosterItem("carol@example.net", subscription="none", ask=True, pending_in=True, approved=True)
    await roster.put_item(ALICE, carol)
    await roster.put_item(ALICE, RosterItem(BOB, name=None, subscription="from", groups=("Ünïcode",)))
    assert await roster.get_items(ALICE) == [
        RosterItem(BOB, name=None, subscription="from", groups=("Ünïcode",)),
        carol,
    ]
    assert await roster.get_items(BOB) == []


async def test_roster_versions_increase(feature_stores: Stores) -> None:
    roster = feature_stores.get(ROSTER)
    assert await roster.get_version(ALICE) == 0
    v1 = await roster.put_item(ALICE, RosterItem(BOB))
    v2 = await roster.put_item(ALICE, RosterItem(BOB, name="Bob"))
    v3 = await roster.put_item(ALICE, RosterItem("carol@example.net"))
    assert 0 < v1 < v2 < v3
    assert await roster.get_version(ALICE) == v3
    v4 = await roster.remove_item(ALICE, BOB)
    assert v4 > v3
    assert await roster.remove_item(ALICE, BOB) == v4  # idempotent: nothing removed, no bump
    assert await roster.get_version(BOB) == 0
    assert [item.jid for item in await roster.get_items(ALICE)] == ["carol@example.net"]


async def test_roster_concurrent_puts_get_distinct_versions(feature_stores: Stores) -> None:
    roster = feature_stores.get(ROSTER)
    versions = await asyncio.gather(
        *(roster.put_item(ALICE, RosterItem(f"c{i}@example.net")) for i in range(10))
    )
    assert sorted(versions) == list(range(1, 11))


def test_roster_item_rejects_bad_subscription() -> None:
    with pytest.raises(ValueError):
        RosterItem(BOB, subscription="maybe")


async def test_offline_queue_and_limit(feature_stores: Stores) -> None:
    offline = feature_stores.get(OFFLINE)
    assert await offline.fetch(ALICE) == []
    for n in range(3):
        assert await offline.push(ALICE, f"<message id='{n}'/>", limit=3)
    assert not await offline.push(ALICE, "<message id='over'/>", limit=3)
    assert await offline.count(ALICE) == 3
    assert await offline.push(BOB, "<message id='b'/>", limit=3)
    queued = await offline.fetch(ALICE)
    assert [xml for _, xml in queued] == [f"<message id='{n}'/>" for n in range(3)]
    ids = [message_id for message_id, _ in queued]
    assert ids == sorted(ids)
    await offline.delete(ALICE, ids[:2])
    await offline.delete(BOB, ids)  # other owner's ids: nothing happens
    await offline.delete(ALICE, [])
    assert [xml for _, xml in await offline.fetch(ALICE)] == ["<message id='2'/>"]
    assert await offline.push(ALICE, "<message id='again'/>", limit=3)
    assert await offline.count(BOB) == 1


async def test_offline_limit_zero_stores_nothing(feature_stores: Stores) -> None:
    offline = feature_stores.get(OFFLINE)
    assert not await offline.push(ALICE, "<message/>", limit=0)
    assert await offline.count(ALICE) == 0


async def test_offline_large_stanza(feature_stores: Stores) -> None:
    offline = feature_stores.get(OFFLINE)
    body = "x" * 200_000  # above MySQL TEXT (64 KiB): needs MEDIUMTEXT
    assert await offline.push(ALICE, f"<message><body>{body}</body></message>", limit=10)
    [(_, xml)] = await offline.fetch(ALICE)
    assert len(xml) > 200_000


async def test_user_xml(feature_stores: Stores) -> None:
    documents = feature_stores.get(USER_XML)
    assert await documents.get(ALICE, "vcard", "") is None
    await documents.set(ALICE, "vcard", "", "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>")
    await documents.set(ALICE, "private", "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>")
    big = "<vCard xmlns='vcard-temp'><PHOTO>" + "A" * 300_000 + "</PHOTO></vCard>"
    await documents.set(ALICE, "vcard", "", big)
    assert await documents.get(ALICE, "vcard", "") == big
    assert await documents.get(ALICE, "private", "storage:bookmarks") == ("<storage xmlns='storage:bookmarks'/>")
    assert await documents.get(BOB, "vcard", "") is None
    await documents.delete(ALICE, "vcard", "")
    await documents.delete(ALICE, "vcard", "")
    assert await documents.get(ALICE, "vcard", "") is None
    assert await documents.get(ALICE, "private", "storage:bookmarks") is not None


async def test_blocking(feature_stores: Stores) -> None:
    blocking = feature_stores.get(BLOCKING)
    assert await blocking.list(ALICE) == []
    await blocking.add(ALICE, ["spam@example.net", "bad.example", "spam@example.net"])
    await blocking.add(ALICE, ["bad.example", "troll@example.org"])
    await blocking.add(BOB, ["x@example.net"])
    assert await blocking.list(ALICE) == ["bad.example", "spam@example.net", "troll@example.org"]
    await blocking.remove(ALICE, ["bad.example", "never@blocked"])
    assert await blocking.list(ALICE) == ["spam@example.net", "troll@example.org"]
    await blocking.remove(ALICE, [])
    assert len(await blocking.list(ALICE)) == 2
    await blocking.remove(ALICE, None)
    assert await blocking.list(ALICE) == []
    assert await blocking.list(BOB) == ["x@example.net"]


async def test_last_activity(feature_stores: Stores) -> None:
    last = feature_stores.get(LAST_ACTIVITY)
    assert await last.get(ALICE) is None
    await last.set(ALICE, 1_700_000_000, "Gone fishing")
    assert await last.get(ALICE) == (1_700_000_000, "Gone fishing")
    await last.set(ALICE, 1_800_000_000, "")
    assert await last.get(ALICE) == (1_800_000_000, "")
    assert await last.get(BOB) is None


def test_every_store_implements_its_protocol() -> None:
    memory = MemoryStorage()
    for spec in discover():
        assert isinstance(memory.store(spec), spec.protocol), spec
        assert isinstance(spec.sql(None), spec.protocol), spec  # type: ignore[arg-type]  # built, never used
        assert spec.tables, f"{spec.name} declares no tables"


async def test_roster_remove_of_unknown_owner_keeps_version_zero(feature_stores: Stores) -> None:
    roster = feature_stores.get(ROSTER)
    assert await roster.remove_item(ALICE, BOB) == 0
    assert await roster.get_items(ALICE) == []
    assert await roster.get_version(ALICE) == 0


async def test_offline_ids_increase_across_owners(feature_stores: Stores) -> None:
    offline = feature_stores.get(OFFLINE)
    assert await offline.push(ALICE, "<message id='a1'/>", limit=5)
    assert await offline.push(BOB, "<message id='b1'/>", limit=5)
    assert await offline.push(ALICE, "<message id='a2'/>", limit=5)
    (first, _), (second, _) = await offline.fetch(ALICE)
    [(bobs, _)] = await offline.fetch(BOB)
    assert first < bobs < second


async def test_user_xml_replaces_a_document(feature_stores: Stores) -> None:
    documents = feature_stores.get(USER_XML)
    await documents.set(ALICE, "private", "ns:a", "<a xmlns='ns:a'>1</a>")
    await documents.set(ALICE, "private", "ns:a", "<a xmlns='ns:a'>2</a>")
    assert await documents.get(ALICE, "private", "ns:a") == "<a xmlns='ns:a'>2</a>"
    assert await documents.get(ALICE, "vcard", "ns:a") is None


async def test_blocking_remove_all_of_unknown_owner(feature_stores: Stores) -> None:
    blocking = feature_stores.get(BLOCKING)
    await blocking.remove(ALICE, None)
    await blocking.remove(ALICE, ["x@example.net"])
    assert await blocking.list(ALICE) == []


async def test_last_activity_is_per_owner(feature_stores: Stores) -> None:
    last = feature_stores.get(LAST_ACTIVITY)
    await last.set(ALICE, 1, "a")
    await last.set(BOB, 2, "b")
    assert await last.get(ALICE) == (1, "a")
    assert await last.get(BOB) == (2, "b")
