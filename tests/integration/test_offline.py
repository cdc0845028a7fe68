"""XEP-0160 offline messages end to end: storage with delay stamps, order, quota, what is kept."""

from __future__ import annotations

from pathlib import Path

from slixmpp.xmlstream import ET

from tests.integration.test_roster import EXTRA, flush, user
from tests.xmpp_harness import login, running_server
from tigase_py.server.stores.offline import OFFLINE
from tigase_py.server.xml import ns

CHATSTATES = "http://jabber.org/protocol/chatstates"


def delay_of(message: object) -> ET.Element | None:
    return message.xml.find(f"{{{ns.DELAY}}}delay")  # type: ignore[attr-defined]


async def test_messages_kept_and_delivered_in_order(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        for n in range(3):
            alice.send_message(mto="bob@localhost", mbody=f"message {n}", mtype="chat")
        alice.send_message(mto="bob@localhost", mbody="a normal one")
        await flush(alice)
        assert await handle.server.storage.store(OFFLINE).count("bob@localhost") == 4
        bob = await login(handle, "bob@localhost")
        bodies = []
        for _ in range(4):
            message = await bob.next_message()
            delay = delay_of(message)
            assert delay is not None and delay.get("from") == "localhost"
            stamp = delay.get("stamp") or ""
            assert stamp.endswith("Z") and "T" in stamp
            assert message["from"] == alice.boundjid
            bodies.append(message["body"])
        assert bodies == ["message 0", "message 1", "message 2", "a normal one"]
        await flush(bob)
        assert await handle.server.storage.store(OFFLINE).count("bob@localhost") == 0


async def test_quota_bounces_resource_constraint(tmp_path: Path) -> None:
    extra = EXTRA + "\n[limits]\noffline_queue_size = 2\n"
    async with running_server(tmp_path, extra=extra) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        for n in range(3):
            alice.send_message(mto="bob@localhost", mbody=f"message {n}", mtype="chat")
        bounce = await alice.next_message()
        assert bounce["type"] == "error"
        assert bounce["error"]["condition"] == "resource-constraint"
        assert bounce["body"] == "message 2"
        assert await handle.server.storage.store(OFFLINE).count("bob@localhost") == 2
        assert handle.server.metrics.snapshot()["offline/Messages refused, queue full[vhost=localhost]"] == 1


async def test_only_messages_with_content_are_kept(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        composing = alice.make_message(mto="bob@localhost", mtype="chat")
        composing.append(ET.Element(f"{{{CHATSTATES}}}composing"))
        composing.send()
        alice.send_message(mto="bob@localhost", mbody="news", mtype="headline")
        alice.send_message(mto="bob@localhost", msubject="subject only")
        alice.send_message(mto="bob@localhost", mbody="kept", mtype="chat")
        await flush(alice)
        assert alice.messages.empty()  # nothing bounced
        kept = [xml for _, xml in await handle.server.storage.store(OFFLINE).fetch("bob@localhost")]
        assert len(kept) == 2 and "subject only" in kept[0] and "kept" in kept[1], kept
        bob = await login(handle, "bob@localhost")
        # slixmpp reports a subject-only message as a subject change, not as a message.
        assert (await bob.next_message())["body"] == "kept"
        await flush(bob)
        assert bob.messages.empty()
        assert await handle.server.storage.store(OFFLINE).count("bob@localhost") == 0


async def test_negative_priority_defers_delivery(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        bob = await login(handle, "bob@localhost", send_presence=False)
        bob.send_presence(ppriority=-1)
        await flush(bob)
        alice.send_message(mto="bob@localhost", mbody="while hidden", mtype="chat")
        await flush(alice)
        assert await handle.server.storage.store(OFFLINE).count("bob@localhost") == 1
        assert bob.messages.empty()
        bob.send_presence(ppriority=1)
        message = await bob.next_message()
        assert message["body"] == "while hidden" and delay_of(message) is not None


async def test_messages_kept_while_unavailable_come_with_next_initial_presence(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        bob.send_presence(ptype="unavailable")
        await flush(bob)
        alice.send_message(mto="bob@localhost", mbody="while away", mtype="chat")
        await flush(alice)
        assert bob.messages.empty()
        bob.send_presence()
        message = await bob.next_message()
        assert message["body"] == "while away" and delay_of(message) is not None
