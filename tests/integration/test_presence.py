"""RFC 6121 sections 3 and 4 end to end: subscriptions, probes, broadcasts, directed presence,
priorities. Every wait is on a received stanza or a ping round trip, never on a timer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.test_roster import (
    EXTRA,
    PresenceLog,
    PushLog,
    flush,
    roster_query,
    roster_set,
    subscribe_both,
    user,
)
from tests.xmpp_harness import login, running_server


def sent_by(jid: str, kind: str = "available") -> Callable[[Any], bool]:
    def match(presence: Any) -> bool:
        return bool(presence.xml.get("type", "available") == kind and str(presence["from"]) == jid)

    return match


def from_bare(bare: str, kind: str = "available") -> Callable[[Any], bool]:
    def match(presence: Any) -> bool:
        return bool(presence.xml.get("type", "available") == kind and presence["from"].bare == bare)

    return match


async def test_mutual_subscription_presence_and_chat(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        alice_log, bob_log = PresenceLog(alice), PresenceLog(bob)
        await roster_query(alice)
        await roster_query(bob)
        await subscribe_both(alice, bob)
        # Each side learned the other's presence when its subscription was approved.
        await alice_log.wait(sent_by(str(bob.boundjid)))
        await bob_log.wait(sent_by(str(alice.boundjid)))
        roster = await alice.get_roster()
        assert roster is not None
        assert alice.client_roster["bob@localhost"]["subscription"] == "both"
        await bob.get_roster()
        assert bob.client_roster["alice@localhost"]["subscription"] == "both"
        alice.send_message(mto="bob@localhost", mbody="hello bob", mtype="chat")
        message = await bob.next_message()
        assert message["body"] == "hello bob" and message["from"] == alice.boundjid
        bob.send_message(mto=alice.boundjid, mbody="hi alice", mtype="chat")
        message = await alice.next_message()
        assert message["body"] == "hi alice" and message["from"] == bob.boundjid


async def test_login_probes_and_unavailable_on_disconnect(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        await subscribe_both(alice, bob)
        bob_full = str(bob.boundjid)
        bob.disconnect()
        await alice.wait_presence(sent_by(bob_full, "unavailable"))
        bob = await login(handle, "bob@localhost")
        # Bob's initial presence reaches alice; alice's probe answer reaches bob.
        await alice.wait_presence(sent_by(str(bob.boundjid)))
        await bob.wait_presence(sent_by(str(alice.boundjid)))
        alice.send_presence(pshow="away", pstatus="lunch")
        away = await bob.wait_presence(sent_by(str(alice.boundjid)))
        assert away["show"] == "away" and away["status"] == "lunch"


async def test_probe_of_offline_contact_answers_unavailable(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        await subscribe_both(alice, bob)
        bob.disconnect()
        await alice.wait_presence(from_bare("bob@localhost", "unavailable"))
        alice.disconnect()
        alice = await login(handle, "alice@localhost")
        await alice.wait_presence(sent_by("bob@localhost", "unavailable"))


async def test_priorities_route_bare_messages(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        high = await login(handle, "bob@localhost", send_presence=False)
        low = await login(handle, "bob@localhost", send_presence=False)
        high.send_presence(ppriority=10)
        low.send_presence(ppriority=1)
        await flush(high)
        await flush(low)
        # Own resources see each other's presence.
        await low.wait_presence(sent_by(str(high.boundjid)))
        await high.wait_presence(sent_by(str(low.boundjid)))
        alice.send_message(mto="bob@localhost", mbody="to the bare jid", mtype="chat")
        alice.send_message(mto=low.boundjid, mbody="to low", mtype="chat")
        assert (await high.next_message())["body"] == "to the bare jid"
        assert (await low.next_message())["body"] == "to low"
        low.send_presence(ppriority=200)  # clamped to 127
        await flush(low)
        alice.send_message(mto="bob@localhost", mbody="now low wins", mtype="chat")
        assert (await low.next_message())["body"] == "now low wins"
        assert high.messages.empty()
        priorities = sorted(s.priority for s in handle.server.sessions.resources("bob@localhost"))
        assert priorities == [10, 127]


async def test_directed_presence_gets_unavailable_on_disconnect(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        carol = await user(handle, "carol@localhost")
        alice.send_presence(pto=carol.boundjid, pstatus="just for you")
        got = await carol.wait_presence(sent_by(str(alice.boundjid)))
        assert got["status"] == "just for you"
        alice_full = str(alice.boundjid)
        alice.disconnect()
        await carol.wait_presence(sent_by(alice_full, "unavailable"))


async def test_explicit_unavailable_reaches_directed_and_contacts(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        carol = await user(handle, "carol@localhost")
        await subscribe_both(alice, bob)
        alice.send_presence(pto="carol@localhost")
        await carol.wait_presence(sent_by(str(alice.boundjid)))
        alice.send_presence(ptype="unavailable")
        await bob.wait_presence(sent_by(str(alice.boundjid), "unavailable"))
        await carol.wait_presence(sent_by(str(alice.boundjid), "unavailable"))


async def test_unsubscribe_and_unsubscribed(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        await subscribe_both(alice, bob)
        alice_pushes, bob_pushes = PushLog(alice), PushLog(bob)
        bob_log = PresenceLog(bob)
        # Alice stops following bob: she keeps 'from', bob keeps 'to'; bob's presence is withdrawn.
        alice.send_presence(pto="bob@localhost", ptype="unsubscribe")
        await alice_pushes.wait("bob@localhost", subscription="from")
        await bob_pushes.wait("alice@localhost", subscription="to")
        await bob.wait_presence(from_bare("alice@localhost", "unsubscribe"))
        await alice.wait_presence(sent_by(str(bob.boundjid), "unavailable"))
        # Alice cancels bob's subscription to her: nothing is left either way.
        alice.send_presence(pto="bob@localhost", ptype="unsubscribed")
        await alice_pushes.wait("bob@localhost", subscription="none")
        await bob_pushes.wait("alice@localhost", subscription="none")
        await bob_log.wait(from_bare("alice@localhost", "unsubscribed"))
        await bob_log.wait(sent_by(str(alice.boundjid), "unavailable"))


async def test_request_waits_for_offline_contact(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("bob@localhost")
        alice = await user(handle, "alice@localhost")
        pushes = PushLog(alice)
        await roster_query(alice)
        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        item, _ = await pushes.wait("bob@localhost", subscription="none")
        assert item.get("ask") == "subscribe"
        bob = await login(handle, "bob@localhost")
        bob.auto_authorize = None
        request = await bob.wait_presence(from_bare("alice@localhost", "subscribe"))
        assert request["to"].bare == "bob@localhost"
        # The request-only row is not shown in bob's roster.
        query = await roster_query(bob)
        assert query is not None and list(query) == []
        bob.send_presence(pto="alice@localhost", ptype="subscribed")
        await pushes.wait("bob@localhost", subscription="to")
        await alice.wait_presence(sent_by(str(bob.boundjid)))


async def test_pre_approval(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        await roster_query(bob)
        bob_pushes = PushLog(bob)
        bob.send_presence(pto="alice@localhost", ptype="subscribed")
        item, _ = await bob_pushes.wait("alice@localhost", subscription="none")
        assert item.get("approved") == "true"
        alice_pushes = PushLog(alice)
        await roster_query(alice)
        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        await alice_pushes.wait("bob@localhost", subscription="to")
        await bob_pushes.wait("alice@localhost", subscription="from")
        await alice.wait_presence(sent_by(str(bob.boundjid)))


async def test_subscribe_to_unknown_account_is_refused(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        pushes = PushLog(alice)
        await roster_query(alice)
        alice.send_presence(pto="nobody@localhost", ptype="subscribe")
        item, _ = await pushes.wait("nobody@localhost", subscription="none")
        assert item.get("ask") == "subscribe"
        await alice.wait_presence(from_bare("nobody@localhost", "unsubscribed"))
        item, _ = await pushes.wait("nobody@localhost", subscription="none")
        assert item.get("ask") is None


async def test_naming_a_requester_shows_it_in_the_roster(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        bob_log = PresenceLog(bob)
        await roster_query(bob)
        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        await bob_log.wait(from_bare("alice@localhost", "subscribe"))
        query = await roster_query(bob)
        assert query is not None and list(query) == []
        await roster_set(bob, "<item jid='alice@localhost'/>")
        query = await roster_query(bob)
        assert query is not None
        assert [(i.get("jid"), i.get("subscription"), i.get("name")) for i in query] == [
            ("alice@localhost", "none", None)
        ]
        bob.send_presence(pto="alice@localhost", ptype="subscribed")
        await flush(bob)
        query = await roster_query(bob)
        assert query is not None and [i.get("subscription") for i in query] == ["from"]
