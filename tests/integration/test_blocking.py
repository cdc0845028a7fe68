"""XEP-0191 blocking command end to end, with slixmpp clients on both sides.

Non-delivery is asserted by ordering, not sleeping: the blocked sender's stanzas are processed in
order, so once its ping to the server returns, its earlier stanza has been routed (or dropped); a
later marker from a third party must then be the recipient's next message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from tests.xmpp_harness import Client, RunningServer, login, running_server
from tigase_py.server.xml import ns

EXTRA = '[modules]\nenabled = ["disco", "ping", "blocking"]\n'


async def client_for(handle: RunningServer, jid: str) -> Client:
    await handle.add_user(jid)
    return await login(handle, jid, plugins=("xep_0191",))


async def flush(client: Client) -> None:
    """Wait until the server has routed everything ``client`` sent before."""
    await client.plugin["xep_0199"].ping(jid=client.boundjid.domain, timeout=10)


async def assert_next_body(client: Client, body: str) -> None:
    message = await client.next_message()
    assert message["body"] == body


async def test_block_list_roundtrip_and_push(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        other = await login(handle, "alice@localhost", plugins=("xep_0191",))
        assert await other.plugin["xep_0191"].get_blocked_jids() == set()
        pushed: list[str] = []
        other.add_event_handler(
            "blocked", lambda iq: pushed.extend(i.get("jid") for i in iq.xml.iter(f"{{{ns.BLOCKING}}}item"))
        )
        await alice.plugin["xep_0191"].block(["bob@localhost", "spam.example"])
        assert await alice.plugin["xep_0191"].get_blocked_jids() == {JID("bob@localhost"), JID("spam.example")}
        await flush(other)
        assert sorted(pushed) == ["bob@localhost", "spam.example"]
        await alice.plugin["xep_0191"].unblock(["spam.example"])
        assert await alice.plugin["xep_0191"].get_blocked_jids() == {JID("bob@localhost")}
        unblock_all = alice.make_iq_set()
        unblock_all.set_payload(ET.fromstring(f"<unblock xmlns='{ns.BLOCKING}'/>"))
        await unblock_all.send(timeout=10)
        assert await alice.plugin["xep_0191"].get_blocked_jids() == set()


async def test_block_malformed_jid_is_refused(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        iq = alice.make_iq_set()
        iq.set_payload(ET.fromstring(f"<block xmlns='{ns.BLOCKING}'><item jid='bad@'/></block>"))
        with pytest.raises(IqError) as caught:
            await iq.send(timeout=10)
        assert caught.value.condition == "jid-malformed"


async def test_blocked_contact_cannot_reach_owner(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        bob = await client_for(handle, "bob@localhost")
        carol = await client_for(handle, "carol@localhost")
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        bob.send_message(mto=alice.boundjid.full, mbody="from bob")
        await flush(bob)
        carol.send_message(mto=alice.boundjid.full, mbody="marker")
        await assert_next_body(alice, "marker")
        with pytest.raises(IqError) as caught:
            await bob.plugin["xep_0199"].ping(jid="alice@localhost", timeout=10)
        assert caught.value.condition == "service-unavailable"
        with pytest.raises(IqError) as caught:
            await bob.plugin["xep_0199"].ping(jid=alice.boundjid.full, timeout=10)
        assert caught.value.condition == "service-unavailable"


async def test_owner_sending_to_blocked_gets_blocked_error(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        bob = await client_for(handle, "bob@localhost")
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        alice.send_message(mto=bob.boundjid.full, mbody="to bob")
        error = await alice.next_message()
        assert error["type"] == "error"
        assert error["error"]["condition"] == "not-acceptable"
        assert error.xml.find(f".//{{{ns.BLOCKING_ERRORS}}}blocked") is not None
        alice.send_presence(pto=bob.boundjid.full)
        await flush(alice)
        carol = await client_for(handle, "carol@localhost")
        carol.send_message(mto=bob.boundjid.full, mbody="marker")
        await assert_next_body(bob, "marker")
        assert bob.presences.empty()


async def test_unblock_restores_delivery(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        bob = await client_for(handle, "bob@localhost")
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        await alice.plugin["xep_0191"].unblock(["bob@localhost"])
        bob.send_message(mto=alice.boundjid.full, mbody="hello again")
        await assert_next_body(alice, "hello again")
        alice.send_message(mto=bob.boundjid.full, mbody="welcome back")
        await assert_next_body(bob, "welcome back")


async def test_blocked_domain_covers_its_users(tmp_path: Path) -> None:
    async with running_server(tmp_path, vhosts=("localhost", "example.org"), extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        dave = await client_for(handle, "dave@example.org")
        carol = await client_for(handle, "carol@localhost")
        await alice.plugin["xep_0191"].block(["example.org"])
        dave.send_message(mto=alice.boundjid.full, mbody="from dave")
        await flush(dave)
        carol.send_message(mto=alice.boundjid.full, mbody="marker")
        await assert_next_body(alice, "marker")
