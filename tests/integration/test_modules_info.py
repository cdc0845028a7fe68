"""Disco, ping, version, time, last, private and vCard against slixmpp clients."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from tests.xmpp_harness import Client, RunningServer, login, running_server
from tigase_py.server import __version__
from tigase_py.server.stores.last_activity import LAST_ACTIVITY
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.xml import ns

MINE = '"disco", "ping", "version", "time", "last", "private", "vcard", "blocking", "register"'
EXTRA = f"[modules]\nenabled = [{MINE}]\n"
PLUGINS = ("xep_0012", "xep_0049", "xep_0054", "xep_0092", "xep_0202")


async def raw_iq(client: Client, iq_type: str, payload: str, to: str | None = None) -> ET.Element:
    """Send an IQ with a literal payload; return the reply's first child element."""
    iq = client.make_iq(itype=iq_type, ito=to)
    iq.set_payload(ET.fromstring(payload))
    reply = await iq.send(timeout=10)
    return reply.xml[0]


async def client_for(handle: RunningServer, jid: str) -> Client:
    await handle.add_user(jid)
    return await login(handle, jid, plugins=PLUGINS)


async def test_disco_info_server_lists_module_features(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        info = await alice.plugin["xep_0030"].get_info(jid="localhost")
        features = set(info["disco_info"]["features"])
        assert {ns.PING, ns.VERSION, ns.TIME, ns.LAST, ns.BLOCKING, ns.DISCO_INFO, ns.DISCO_ITEMS} <= features
        assert ("server", "im", None, "tigase-py") in info["disco_info"]["identities"]
        items = await alice.plugin["xep_0030"].get_items(jid="localhost")
        assert not items["disco_items"]["items"]


async def test_disco_info_account_for_owner_and_others(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        bob = await client_for(handle, "bob@localhost")
        own = await alice.plugin["xep_0030"].get_info(jid="alice@localhost")
        assert ns.BLOCKING in own["disco_info"]["features"]
        assert ("account", "registered", None, None) in own["disco_info"]["identities"]
        other = await bob.plugin["xep_0030"].get_info(jid="alice@localhost")
        assert ("account", "registered", None, None) in other["disco_info"]["identities"]
        assert ns.BLOCKING not in other["disco_info"]["features"]


async def test_disco_info_unknown_node_is_item_not_found(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        with pytest.raises(IqError) as caught:
            await alice.plugin["xep_0030"].get_info(jid="localhost", node="nope")
        assert caught.value.condition == "item-not-found"


async def test_disco_info_unknown_user_is_service_unavailable(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        with pytest.raises(IqError) as caught:
            await alice.plugin["xep_0030"].get_info(jid="ghost@localhost")
        assert caught.value.condition == "service-unavailable"


async def test_ping_server_self_and_contact(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        await handle.add_user("bob@localhost")
        for target in ("localhost", "alice@localhost", "bob@localhost"):
            rtt = await alice.plugin["xep_0199"].ping(jid=target, timeout=10)
            assert rtt >= 0


async def test_version_reports_name_without_os(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        reply = await alice.plugin["xep_0092"].get_version("localhost")
        assert reply["software_version"]["name"] == "tigase-py"
        assert reply["software_version"]["version"] == __version__
        assert reply["software_version"]["os"] == ""


async def test_version_shows_os_when_enabled(tmp_path: Path) -> None:
    extra = EXTRA + "[modules.version]\nshow_os = true\n"
    async with running_server(tmp_path, extra=extra) as handle:
        alice = await client_for(handle, "alice@localhost")
        reply = await alice.plugin["xep_0092"].get_version("localhost")
        assert reply["software_version"]["os"]


async def test_time_reports_utc_and_offset(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        reply = await raw_iq(alice, "get", "<time xmlns='urn:xmpp:time'/>", to="localhost")
        utc = reply.find("{urn:xmpp:time}utc")
        tzo = reply.find("{urn:xmpp:time}tzo")
        assert utc is not None and utc.text is not None and utc.text.endswith("Z")
        assert tzo is not None and tzo.text is not None and tzo.text[0] in "+-"


async def test_last_server_uptime_and_account(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        uptime = await alice.plugin["xep_0012"].get_last_activity("localhost")
        assert uptime["last_activity"]["seconds"] >= 0
        online = await alice.plugin["xep_0012"].get_last_activity("alice@localhost")
        assert online["last_activity"]["seconds"] == 0
        bob = await client_for(handle, "bob@localhost")
        with pytest.raises(IqError) as caught:
            await bob.plugin["xep_0012"].get_last_activity("alice@localhost")
        assert caught.value.condition == "forbidden"


async def test_last_records_logout_status(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        carol = await client_for(handle, "carol@localhost")
        carol.send_presence(ptype="unavailable", pstatus="gone fishing")
        await carol.plugin["xep_0199"].ping(jid="localhost", timeout=10)
        closed = asyncio.get_running_loop().create_future()
        carol.add_event_handler("disconnected", lambda *_: closed.done() or closed.set_result(None))
        carol.disconnect()
        await asyncio.wait_for(closed, 10)
        for _ in range(100):
            if await handle.server.storage.store(LAST_ACTIVITY).get("carol@localhost") is not None:
                break
            await asyncio.sleep(0.05)
        alice = await client_for(handle, "alice@localhost")
        with pytest.raises(IqError) as caught:
            await alice.plugin["xep_0012"].get_last_activity("carol@localhost")
        assert caught.value.condition == "forbidden"
        await handle.server.storage.store(ROSTER).put_item(
            "carol@localhost", RosterItem("alice@localhost", subscription="from")
        )
        reply = await alice.plugin["xep_0012"].get_last_activity("carol@localhost")
        assert reply["last_activity"]["seconds"] >= 0
        assert reply["last_activity"]["status"] == "gone fishing"


async def test_private_roundtrip_and_restrictions(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await client_for(handle, "alice@localhost")
        query = "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>"
        empty = await raw_iq(alice, "get", query)
        assert empty[0].tag == "{storage:bookmarks}storage" and len(empty[0]) == 0
        data = ET.fromstring("<storage xmlns='storage:bookmarks'><conference jid='r@muc'/></storage>")
        await alice.plugin["xep_0049"].store(data)
        stored = await raw_iq(alice, "get", query)
        assert stored[0][0].get("jid") == "r@muc"
        with pytest.raises(IqError) as caught:
            await alice.plugin["xep_0049"].store(ET.fromstring("<x xmlns='jabber:client'/>"))
        assert caught.value.condition == "not-acceptable"
        await handle.add_user("bob@localhost")
        with pytest.raises(IqError) as caught:
            await raw_iq(alice, "get", query, to="bob@localhost")
        assert caught.value.condition == "forbidden"


async def test_vcard_set_get_and_limits(tmp_path: Path) -> None:
    extra = EXTRA + "[modules.vcard]\nmax_size = 300\n"
    async with running_server(tmp_path, extra=extra) as handle:
        alice = await client_for(handle, "alice@localhost")
        bob = await client_for(handle, "bob@localhost")
        vcard_stanza = alice.plugin["xep_0054"].stanza.VCardTemp()
        vcard_stanza["FN"] = "Alice Liddell"
        await alice.plugin["xep_0054"].publish_vcard(vcard_stanza)
        seen = await bob.plugin["xep_0054"].get_vcard("alice@localhost", local=False, cached=False)
        assert seen["vcard_temp"]["FN"] == "Alice Liddell"
        empty = await alice.plugin["xep_0054"].get_vcard("bob@localhost", local=False, cached=False)
        assert empty["vcard_temp"]["FN"] == ""
        with pytest.raises(IqError) as caught:
            await bob.plugin["xep_0054"].publish_vcard(vcard_stanza, jid="alice@localhost")
        assert caught.value.condition == "forbidden"
        big = alice.plugin["xep_0054"].stanza.VCardTemp()
        big["FN"] = "x" * 400
        with pytest.raises(IqError) as caught:
            await alice.plugin["xep_0054"].publish_vcard(big)
        assert caught.value.condition == "not-acceptable"
