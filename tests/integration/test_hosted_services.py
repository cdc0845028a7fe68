"""Hosted services: a module's service on ``svc.<vhost>`` gets its stanzas, shows in disco, follows the vhost.

The service is tests/service_module.py; clients are slixmpp (xep_0030) and the stdlib-parsing
:class:`StanzaClient`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from xml.etree import ElementTree

import pytest
from slixmpp.exceptions import IqError

from tests import service_module
from tests.service_module import NS
from tests.stanza_client import StanzaClient, error_condition
from tests.xmpp_harness import TIMEOUT, RunningServer, login, running_server

DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
RSM = "http://jabber.org/protocol/rsm"


@pytest.fixture(autouse=True)
def svc_module(monkeypatch: pytest.MonkeyPatch) -> None:
    service_module.install(monkeypatch)


def q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


async def stanza_client(handle: RunningServer, jid: str) -> StanzaClient:
    await handle.add_user(jid)
    return await StanzaClient.login(handle.plain_port, jid)


async def iq(client: StanzaClient, to: str, payload: str, iq_type: str = "get") -> ElementTree.Element:
    return await client.request(f"<iq type='{iq_type}' id='{{id}}' to='{to}'>{payload}</iq>")


def condition(reply: ElementTree.Element) -> str | None:
    found = error_condition(reply)
    return None if found is None else found[1]


async def next_message(client: StanzaClient, count: int) -> ElementTree.Element:
    """Wait (bounded) until ``client`` holds ``count`` messages; return the last one."""
    async with asyncio.timeout(TIMEOUT):
        while len(client.messages) < count:
            client.arrived.clear()
            if len(client.messages) < count:
                await client.arrived.wait()
    return client.messages[count - 1]


async def test_stanzas_to_the_service_domain_and_under_it_reach_the_module(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_server(tmp_path) as handle:
        alice = await stanza_client(handle, "alice@localhost")
        try:
            reply = await iq(alice, "svc.localhost", f"<query xmlns='{NS}'/>")
            answer = reply.find(q(NS, "query"))
            assert reply.get("type") == "result" and reply.get("from") == "svc.localhost", ElementTree.tostring(reply)
            assert answer is not None and answer.get("domain") == "svc.localhost" and answer.get("vhost") == "localhost"

            known = await iq(alice, "known@svc.localhost", f"<query xmlns='{NS}'/>")
            assert known.get("type") == "result" and known.get("from") == "known@svc.localhost"
            assert condition(await iq(alice, "ghost@svc.localhost", f"<query xmlns='{NS}'/>")) == "item-not-found"

            relayed = await iq(alice, "room@svc.localhost/nick", "<ping xmlns='urn:xmpp:ping'/>")
            found = relayed.find(q(NS, "relayed"))
            assert found is not None and found.get("ns") == "urn:xmpp:ping", ElementTree.tostring(relayed)
            assert found.get("to") == "room@svc.localhost/nick"

            # What the service does not handle, and domains nobody serves (RFC 6120 §8.3.3.19, §8.3.3.16).
            assert condition(await iq(alice, "svc.localhost", "<query xmlns='urn:other'/>")) == "service-unavailable"
            assert condition(await iq(alice, "nosuch.localhost", f"<query xmlns='{NS}'/>")) == "remote-server-not-found"
            broken = await iq(alice, "svc.localhost", f"<query xmlns='{NS}'/>", "set")
            assert condition(broken) == "internal-server-error"
            assert f"handler_failed key=iq-set/service/{NS}:query" in caplog.text

            alice.send("<message to='svc.localhost' id='m1' type='chat'><body>hello</body></message>")
            echo = await next_message(alice, 1)
            assert echo.get("from") == "svc.localhost" and echo.findtext(q("jabber:client", "body")) == "echo: hello"
            alice.send("<message to='someone@svc.localhost/r' id='m2'><body>two</body></message>")
            echo = await next_message(alice, 2)
            assert echo.get("from") == "someone@svc.localhost/r"
            # An error bounced to the service (it wrote to an account that does not exist) comes back to it.
            alice.send("<message to='svc.localhost' id='m3' type='chat'><body>bounce</body></message>")
            notice = await next_message(alice, 3)
            assert notice.findtext(q("jabber:client", "body")) == "bounced: service-unavailable"
        finally:
            await alice.close()


async def test_slixmpp_sees_the_service_in_disco_and_gets_presence(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("bob@localhost")
        bob = await login(handle, "bob@localhost")
        disco = bob.plugin["xep_0030"]
        items = await disco.get_items(jid="localhost", timeout=TIMEOUT)
        assert ("svc.localhost", None, "Test service") in items["disco_items"]["items"]
        info = await disco.get_info(jid="svc.localhost", timeout=TIMEOUT)
        assert ("component", "generic", None, "Test service") in info["disco_info"]["identities"]
        assert {NS, DISCO_INFO, DISCO_ITEMS} <= set(info["disco_info"]["features"])
        node = await disco.get_info(jid="svc.localhost", node="n1", timeout=TIMEOUT)
        assert ("hierarchy", "leaf", None, "Node one") in node["disco_info"]["identities"]
        with pytest.raises(IqError) as unknown:
            await disco.get_info(jid="svc.localhost", node="nope", timeout=TIMEOUT)
        assert unknown.value.condition == "item-not-found"
        entity = await disco.get_info(jid="known@svc.localhost", timeout=TIMEOUT)
        assert set(entity["disco_info"]["identities"]) == {("conference", "text", None, "Known")}
        with pytest.raises(IqError) as missing:
            await disco.get_info(jid="ghost@svc.localhost", timeout=TIMEOUT)
        assert missing.value.condition == "item-not-found"
        nodes = await disco.get_items(jid="svc.localhost", timeout=TIMEOUT)
        assert len(nodes["disco_items"]["items"]) == service_module.NODES

        bob.send_presence(pto="room@svc.localhost/bob")
        echoed = await bob.wait_presence(lambda p: p["from"] == "room@svc.localhost/bob")
        assert echoed["type"] == "available"


async def test_service_items_page_with_rsm(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        carol = await stanza_client(handle, "carol@localhost")
        try:
            seen: list[str] = []
            after = ""
            for _ in range(4):  # 25 items in pages of 10: three pages, then an empty answer
                rsm = f"<set xmlns='{RSM}'><max>10</max>{after}</set>"
                reply = await iq(carol, "svc.localhost", f"<query xmlns='{DISCO_ITEMS}'>{rsm}</query>")
                query = reply.find(q(DISCO_ITEMS, "query"))
                assert query is not None, ElementTree.tostring(reply)
                page = [item.get("node", "") for item in query.findall(q(DISCO_ITEMS, "item"))]
                result = query.find(q(RSM, "set"))
                assert result is not None and result.findtext(q(RSM, "count")) == str(service_module.NODES)
                if not page:
                    break
                seen.extend(page)
                after = f"<after>{result.findtext(q(RSM, 'last'))}</after>"
            assert seen == [f"n{i}" for i in range(1, service_module.NODES + 1)]
            bad = f"<query xmlns='{DISCO_ITEMS}'><set xmlns='{RSM}'><after>99</after></set></query>"
            assert condition(await iq(carol, "svc.localhost", bad)) == "item-not-found"

            # A provider that pages from its store: its page and count pass through unchanged.
            pages = (("", ["big/0", "big/1", "big/2"]), ("<after>2</after>", ["big/3", "big/4", "big/5"]))
            for after, expected in pages:
                rsm = f"<set xmlns='{RSM}'><max>3</max>{after}</set>"
                reply = await iq(carol, "svc.localhost", f"<query xmlns='{DISCO_ITEMS}' node='big'>{rsm}</query>")
                assert [i.get("node") for i in reply.iter(q(DISCO_ITEMS, "item"))] == expected
                assert reply.findtext(f".//{q(RSM, 'count')}") == str(service_module.BIG)
                assert reply.findtext(f".//{q(RSM, 'last')}") == expected[-1].removeprefix("big/")
        finally:
            await carol.close()


PER_VHOST = """
[services.svc_test]
name = "Echo"

[vhosts."localhost".services.svc_test]
enabled = false

[vhosts."example.test".services.svc_test]
subdomain = "echo"
"""


async def test_per_vhost_disable_and_rename(tmp_path: Path) -> None:
    async with running_server(tmp_path, vhosts=("localhost", "example.test"), extra=PER_VHOST) as handle:
        dave = await stanza_client(handle, "dave@localhost")
        try:
            payload = f"<query xmlns='{NS}'/>"
            assert condition(await iq(dave, "svc.localhost", payload)) == "remote-server-not-found"
            assert condition(await iq(dave, "svc.example.test", payload)) == "remote-server-not-found"
            reply = await iq(dave, "echo.example.test", payload)
            assert reply.get("type") == "result", ElementTree.tostring(reply)
            local_items = await iq(dave, "localhost", f"<query xmlns='{DISCO_ITEMS}'/>")
            assert local_items.find(f"{q(DISCO_ITEMS, 'query')}/{q(DISCO_ITEMS, 'item')}") is None
            other = await iq(dave, "example.test", f"<query xmlns='{DISCO_ITEMS}'/>")
            listed = [i.attrib for i in other.iter(q(DISCO_ITEMS, "item"))]
            assert listed == [{"jid": "echo.example.test", "name": "Echo"}]
        finally:
            await dave.close()


async def test_vhost_removed_at_run_time_takes_its_service(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        erin = await stanza_client(handle, "erin@localhost")
        try:
            payload = f"<query xmlns='{NS}'/>"
            await handle.server.storage.vhosts.add("late.test")
            await handle.server.sync_vhosts()
            assert (await iq(erin, "svc.late.test", payload)).get("type") == "result"
            await handle.server.storage.vhosts.remove("late.test")
            await handle.server.sync_vhosts()
            assert condition(await iq(erin, "svc.late.test", payload)) == "remote-server-not-found"
            assert "svc.late.test" not in handle.server.router.services
            assert (await iq(erin, "svc.localhost", payload)).get("type") == "result"
        finally:
            await erin.close()
