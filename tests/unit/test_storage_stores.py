"""vhosts, roster, offline, user XML, blocking and last activity stores, on SQLite and MariaDB."""

from __future__ import annotations

import asyncio

import pytest

from tigase_py.server.storage.engine import Storage
from tigase_py.server.storage.roster import RosterItem

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


async def test_roster_put_get_replace(storage: Storage) -> None:
    assert await storage.roster.get_items(ALICE) == []
    assert await storage.roster.get_item(ALICE, BOB) is None
    bob = RosterItem(BOB, name="Bob", subscription="both", groups=("Friends", "Work", "Friends"))
    await storage.roster.put_item(ALICE, bob)
    stored = await storage.roster.get_item(ALICE, BOB)
    assert stored == RosterItem(BOB, name="Bob", subscription="both", groups=("Friends", "Work"))
    carol = RosterItem("carol@example.net", subscription="none", ask=True, pending_in=True, approved=True)
    await storage.roster.put_item(ALICE, carol)
    await storage.roster.put_item(ALICE, RosterItem(BOB, name=None, subscription="from", groups=("Ünïcode",)))
    assert await storage.roster.get_items(ALICE) == [
        RosterItem(BOB, name=None, subscription="from", groups=("Ünïcode",)),
        carol,
    ]
    assert await storage.roster.get_items(BOB) == []


async def test_roster_versions_increase(storage: Storage) -> None:
    assert await storage.roster.get_version(ALICE) == 0
    v1 = await storage.roster.put_item(ALICE, RosterItem(BOB))
    v2 = await storage.roster.put_item(ALICE, RosterItem(BOB, name="Bob"))
    v3 = await storage.roster.put_item(ALICE, RosterItem("carol@example.net"))
    assert 0 < v1 < v2 < v3
    assert await storage.roster.get_version(ALICE) == v3
    v4 = await storage.roster.remove_item(ALICE, BOB)
    assert v4 > v3
    assert await storage.roster.remove_item(ALICE, BOB) == v4  # idempotent: nothing removed, no bump
    assert await storage.roster.get_version(BOB) == 0
    assert [item.jid for item in await storage.roster.get_items(ALICE)] == ["carol@example.net"]


async def test_roster_concurrent_puts_get_distinct_versions(storage: Storage) -> None:
    versions = await asyncio.gather(
        *(storage.roster.put_item(ALICE, RosterItem(f"c{i}@example.net")) for i in range(10))
    )
    assert sorted(versions) == list(range(1, 11))


def test_roster_item_rejects_bad_subscription() -> None:
    with pytest.raises(ValueError):
        RosterItem(BOB, subscription="maybe")


async def test_offline_queue_and_limit(storage: Storage) -> None:
    assert await storage.offline.fetch(ALICE) == []
    for n in range(3):
        assert await storage.offline.push(ALICE, f"<message id='{n}'/>", limit=3)
    assert not await storage.offline.push(ALICE, "<message id='over'/>", limit=3)
    assert await storage.offline.count(ALICE) == 3
    assert await storage.offline.push(BOB, "<message id='b'/>", limit=3)
    queued = await storage.offline.fetch(ALICE)
    assert [xml for _, xml in queued] == [f"<message id='{n}'/>" for n in range(3)]
    ids = [message_id for message_id, _ in queued]
    assert ids == sorted(ids)
    await storage.offline.delete(ALICE, ids[:2])
    await storage.offline.delete(BOB, ids)  # other owner's ids: nothing happens
    await storage.offline.delete(ALICE, [])
    assert [xml for _, xml in await storage.offline.fetch(ALICE)] == ["<message id='2'/>"]
    assert await storage.offline.push(ALICE, "<message id='again'/>", limit=3)
    assert await storage.offline.count(BOB) == 1


async def test_offline_limit_zero_stores_nothing(storage: Storage) -> None:
    assert not await storage.offline.push(ALICE, "<message/>", limit=0)
    assert await storage.offline.count(ALICE) == 0


async def test_offline_large_stanza(storage: Storage) -> None:
    body = "x" * 200_000  # above MySQL TEXT (64 KiB): needs MEDIUMTEXT
    assert await storage.offline.push(ALICE, f"<message><body>{body}</body></message>", limit=10)
    [(_, xml)] = await storage.offline.fetch(ALICE)
    assert len(xml) > 200_000


async def test_user_xml(storage: Storage) -> None:
    assert await storage.user_xml.get(ALICE, "vcard", "") is None
    await storage.user_xml.set(ALICE, "vcard", "", "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>")
    await storage.user_xml.set(ALICE, "private", "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>")
    big = "<vCard xmlns='vcard-temp'><PHOTO>" + "A" * 300_000 + "</PHOTO></vCard>"
    await storage.user_xml.set(ALICE, "vcard", "", big)
    assert await storage.user_xml.get(ALICE, "vcard", "") == big
    assert await storage.user_xml.get(ALICE, "private", "storage:bookmarks") == ("<storage xmlns='storage:bookmarks'/>")
    assert await storage.user_xml.get(BOB, "vcard", "") is None
    await storage.user_xml.delete(ALICE, "vcard", "")
    await storage.user_xml.delete(ALICE, "vcard", "")
    assert await storage.user_xml.get(ALICE, "vcard", "") is None
    assert await storage.user_xml.get(ALICE, "private", "storage:bookmarks") is not None


async def test_blocking(storage: Storage) -> None:
    assert await storage.blocking.list(ALICE) == []
    await storage.blocking.add(ALICE, ["spam@example.net", "bad.example", "spam@example.net"])
    await storage.blocking.add(ALICE, ["bad.example", "troll@example.org"])
    await storage.blocking.add(BOB, ["x@example.net"])
    assert await storage.blocking.list(ALICE) == ["bad.example", "spam@example.net", "troll@example.org"]
    await storage.blocking.remove(ALICE, ["bad.example", "never@blocked"])
    assert await storage.blocking.list(ALICE) == ["spam@example.net", "troll@example.org"]
    await storage.blocking.remove(ALICE, [])
    assert len(await storage.blocking.list(ALICE)) == 2
    await storage.blocking.remove(ALICE, None)
    assert await storage.blocking.list(ALICE) == []
    assert await storage.blocking.list(BOB) == ["x@example.net"]


async def test_last_activity(storage: Storage) -> None:
    assert await storage.last_activity.get(ALICE) is None
    await storage.last_activity.set(ALICE, 1_700_000_000, "Gone fishing")
    assert await storage.last_activity.get(ALICE) == (1_700_000_000, "Gone fishing")
    await storage.last_activity.set(ALICE, 1_800_000_000, "")
    assert await storage.last_activity.get(ALICE) == (1_800_000_000, "")
    assert await storage.last_activity.get(BOB) is None
