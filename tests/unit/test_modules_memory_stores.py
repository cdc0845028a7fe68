"""Module handlers over in-memory stores: what each reads and writes through `ctx.store(SPEC)`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.unit.module_harness import iq, memory_module
from tigase_py.server.core.events import STOP
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules import blocking, last, offline, private, roster, vcard
from tigase_py.server.stores.blocking import BLOCKING
from tigase_py.server.stores.last_activity import LAST_ACTIVITY
from tigase_py.server.stores.offline import OFFLINE
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.stores.user_xml import USER_XML
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment

ALICE = "alice@example.com"
BOB = "bob@example.com"


def request(kind: str, sender: str, to: str, payload: str) -> str:
    return f"<iq type='{kind}' id='q1' from='{sender}/res' to='{to}'>{payload}</iq>"


def test_modules_declare_the_stores_they_own() -> None:
    assert roster.module.stores == (ROSTER,)
    assert blocking.module.stores == (BLOCKING,)
    assert offline.module.stores == (OFFLINE,)
    assert last.module.stores == (LAST_ACTIVITY,)
    assert private.module.stores == vcard.module.stores == (USER_XML,)


async def test_private_set_then_get() -> None:
    ctx, storage, _ = memory_module(private.module)
    bookmarks = "<storage xmlns='storage:bookmarks'><conference jid='room@muc.example.com'/></storage>"
    set_iq = request("set", ALICE, ALICE, f"<query xmlns='{ns.PRIVATE}'>{bookmarks}</query>")
    await private.set_private(iq(ctx, set_iq))
    stored = await storage.store(USER_XML).get(ALICE, "private", "storage:bookmarks")
    assert stored is not None and "room@muc.example.com" in stored

    get_iq = request("get", ALICE, ALICE, f"<query xmlns='{ns.PRIVATE}'><storage xmlns='storage:bookmarks'/></query>")
    reply = await private.get_private(iq(ctx, get_iq))
    assert "room@muc.example.com" in reply.to_str()
    assert await storage.store(USER_XML).get(BOB, "private", "storage:bookmarks") is None


async def test_vcard_set_get_and_clear() -> None:
    ctx, storage, _ = memory_module(vcard.module)
    card = f"<vCard xmlns='{ns.VCARD}'><FN>Alice</FN></vCard>"
    await vcard.set_vcard(iq(ctx, request("set", ALICE, ALICE, card)))
    reply = await vcard.get_vcard(iq(ctx, request("get", BOB, ALICE, f"<vCard xmlns='{ns.VCARD}'/>")))
    assert "<FN>Alice</FN>" in reply.to_str()
    await vcard.set_vcard(iq(ctx, request("set", ALICE, ALICE, f"<vCard xmlns='{ns.VCARD}'/>")))
    assert await storage.store(USER_XML).get(ALICE, "vcard", "") is None


async def test_vcard_size_limit_leaves_the_store_alone() -> None:
    ctx, storage, _ = memory_module(vcard.module, max_size=64)
    card = f"<vCard xmlns='{ns.VCARD}'><FN>{'A' * 100}</FN></vCard>"
    with pytest.raises(StanzaError):
        await vcard.set_vcard(iq(ctx, request("set", ALICE, ALICE, card)))
    assert await storage.store(USER_XML).get(ALICE, "vcard", "") is None


async def test_blocking_block_list_unblock_all() -> None:
    ctx, storage, _ = memory_module(blocking.module)
    items = "<item jid='spam@example.net'/><item jid='bad.example'/>"
    await blocking.block(iq(ctx, request("set", ALICE, ALICE, f"<block xmlns='{ns.BLOCKING}'>{items}</block>")))
    assert await storage.store(BLOCKING).list(ALICE) == ["bad.example", "spam@example.net"]
    reply = await blocking.get_blocklist(iq(ctx, request("get", ALICE, ALICE, f"<blocklist xmlns='{ns.BLOCKING}'/>")))
    assert reply.to_str().count("<item ") == 2
    await blocking.unblock(iq(ctx, request("set", ALICE, ALICE, f"<unblock xmlns='{ns.BLOCKING}'/>")))
    assert await storage.store(BLOCKING).list(ALICE) == []


async def test_last_activity_needs_a_subscription() -> None:
    ctx, storage, _ = memory_module(last.module)
    await storage.store(LAST_ACTIVITY).set(ALICE, 1_000, "gone fishing")
    ask = request("get", BOB, ALICE, f"<query xmlns='{ns.LAST}'/>")
    with pytest.raises(StanzaError) as refused:
        await last.account_last(iq(ctx, ask))
    assert refused.value.condition == "forbidden"
    await storage.store(ROSTER).put_item(ALICE, RosterItem(BOB, subscription="from"))
    reply = await last.account_last(iq(ctx, ask))
    assert "gone fishing" in reply.to_str()


async def test_roster_set_then_get_with_version() -> None:
    ctx, storage, recorded = memory_module(roster.module)
    item = f"<item jid='{BOB}' name='Bob'><group>Friends</group></item>"
    await roster.set_roster(iq(ctx, request("set", ALICE, ALICE, f"<query xmlns='{ns.ROSTER}'>{item}</query>")))
    assert await storage.store(ROSTER).get_items(ALICE) == [RosterItem(BOB, name="Bob", groups=("Friends",))]
    assert [event for event, _, _ in recorded.fired] == ["roster.changed"]
    reply = await roster.get_roster(iq(ctx, request("get", ALICE, ALICE, f"<query xmlns='{ns.ROSTER}' ver=''/>")))
    query = reply.first_child()
    assert query is not None and query.attrs.get("ver") == "1" and "Friends" in query.to_str()
    unchanged = await roster.get_roster(iq(ctx, request("get", ALICE, ALICE, f"<query xmlns='{ns.ROSTER}' ver='1'/>")))
    assert unchanged.first_child() is None


async def test_offline_queues_up_to_the_limit_then_delivers_and_empties() -> None:
    ctx, storage, _ = memory_module(offline.module, offline_queue_size=2)
    for start in offline.module.declared.starts:
        await start(ctx)
    for n in range(2):
        message = parse_fragment(f"<message type='chat' from='{BOB}/b' to='{ALICE}'><body>m{n}</body></message>")
        assert await offline.store_message(ctx, message, ALICE) is STOP
    third = parse_fragment(f"<message type='chat' from='{BOB}/b' to='{ALICE}'><body>m2</body></message>")
    with pytest.raises(StanzaError) as full:
        await offline.store_message(ctx, third, ALICE)
    assert full.value.condition == "resource-constraint"
    assert await storage.store(OFFLINE).count(ALICE) == 2

    sent: list[Element] = []
    session = SimpleNamespace(
        priority=0, available=True, cache={}, bare=ALICE, writer=SimpleNamespace(closing=False), send=sent.append
    )
    await offline.deliver_stored(ctx, session, True)  # type: ignore[arg-type]
    assert [element.find("body").text for element in sent] == ["m0", "m1"]  # type: ignore[union-attr]
    assert await storage.store(OFFLINE).count(ALICE) == 0
