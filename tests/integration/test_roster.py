"""RFC 6121 section 2 rosters and XEP-0237 versioning, driven by slixmpp clients.

The helpers at the top are shared with the presence and offline tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from tests.xmpp_harness import TIMEOUT, Client, RunningServer, login, running_server
from tigase_py.server.xml import ns

EXTRA = '[modules]\nenabled = ["ping", "roster", "presence", "offline"]\n'

Item = dict[str, Any]


class PushLog:
    """Roster pushes a client received, as {jid: item attributes}, waited on without sleeping."""

    def __init__(self, client: Client) -> None:
        self.queue: asyncio.Queue[tuple[str, Item, str]] = asyncio.Queue()
        client.add_event_handler("roster_update", self._on_push)

    def _on_push(self, iq: Any) -> None:
        if iq["type"] != "set":
            return
        for element in iq.xml.iter(f"{{{ns.ROSTER}}}item"):
            item = dict(element.attrib)
            item["groups"] = [g.text for g in element.iter(f"{{{ns.ROSTER}}}group")]
            query = iq.xml.find(f"{{{ns.ROSTER}}}query")
            ver = "" if query is None else query.get("ver", "")
            self.queue.put_nowait((item["jid"], item, ver))

    async def wait(self, jid: str, **expected: str | None) -> tuple[Item, str]:
        async def find() -> tuple[Item, str]:
            while True:
                got_jid, item, ver = await self.queue.get()
                if got_jid == jid and all(item.get(k) == v for k, v in expected.items()):
                    return item, ver

        return await asyncio.wait_for(find(), TIMEOUT)


class PresenceLog:
    """Every presence a client received since creation; ``wait`` also matches ones already seen."""

    def __init__(self, client: Client) -> None:
        self.seen: list[Any] = []
        self.arrived = asyncio.Event()
        client.add_event_handler("presence", self._on_presence)

    def _on_presence(self, presence: Any) -> None:
        self.seen.append(presence)
        self.arrived.set()

    async def wait(self, match: Callable[[Any], bool]) -> Any:
        async def find() -> Any:
            while True:
                for presence in self.seen:
                    if match(presence):
                        return presence
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(find(), TIMEOUT)


async def user(handle: RunningServer, jid: str, manual: bool = True, **kwargs: Any) -> Client:
    """Create the account and log in; with ``manual``, subscription requests are left to the test."""
    await handle.add_user(jid)
    client = await login(handle, jid, **kwargs)
    if manual:
        client.auto_authorize = None
        client.auto_subscribe = False
    return client


async def flush(client: Client) -> None:
    """Wait until the server has handled everything ``client`` sent before (stanzas are in order)."""
    await client.plugin["xep_0199"].ping(jid=client.boundjid.domain, timeout=TIMEOUT)


async def roster_query(client: Client, ver: str | None = None) -> ET.Element | None:
    iq = client.make_iq_get()
    query = ET.Element(f"{{{ns.ROSTER}}}query")
    if ver is not None:
        query.set("ver", ver)
    iq.set_payload(query)
    result = await iq.send(timeout=TIMEOUT)
    return result.xml.find(f"{{{ns.ROSTER}}}query")


async def roster_set(client: Client, item_xml: str, to: str | None = None) -> Any:
    iq = client.make_iq_set()
    if to is not None:
        iq["to"] = to
    iq.set_payload(ET.fromstring(f"<query xmlns='{ns.ROSTER}'>{item_xml}</query>"))
    return await iq.send(timeout=TIMEOUT)


async def error_of(client: Client, item_xml: str, to: str | None = None) -> str:
    with pytest.raises(IqError) as caught:
        await roster_set(client, item_xml, to)
    return str(caught.value.iq["error"]["condition"])


async def subscribe_both(alice: Client, bob: Client) -> None:
    """Alice and bob subscribe to each other, approving by hand; both end with 'both'."""
    a, b = alice.boundjid.bare, bob.boundjid.bare
    bob_pushes, alice_pushes = PushLog(bob), PushLog(alice)
    await roster_query(alice)
    await roster_query(bob)
    alice.send_presence(pto=b, ptype="subscribe")
    await bob.wait_presence(lambda p: p["type"] == "subscribe" and p["from"].bare == a)
    bob.send_presence(pto=a, ptype="subscribed")
    await alice_pushes.wait(b, subscription="to")
    bob.send_presence(pto=a, ptype="subscribe")
    await alice.wait_presence(lambda p: p["type"] == "subscribe" and p["from"].bare == b)
    alice.send_presence(pto=b, ptype="subscribed")
    await bob_pushes.wait(a, subscription="both")
    await alice_pushes.wait(b, subscription="both")


# -- tests -----------------------------------------------------------------------------------------


async def test_stream_feature_and_empty_roster(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        assert "rosterver" in alice.features
        query = await roster_query(alice, ver="")
        assert query is not None
        assert list(query) == []
        assert query.get("ver") == "0"


async def test_add_update_remove_with_pushes_to_interested_resources(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        other = await login(handle, "alice@localhost")
        lazy = await login(handle, "alice@localhost")  # never asks for the roster
        lazy_pushes = PushLog(lazy)
        await roster_query(alice)
        await roster_query(other)
        pushes, other_pushes = PushLog(alice), PushLog(other)
        await roster_set(alice, "<item jid='nurse@localhost' name='Nurse'><group>Servants</group></item>")
        item, ver = await pushes.wait("nurse@localhost", name="Nurse", subscription="none")
        assert item["groups"] == ["Servants"]
        _, other_ver = await other_pushes.wait("nurse@localhost")
        assert ver == other_ver == "1"
        await roster_set(alice, "<item jid='nurse@localhost' name='Nanny' subscription='both'/>")
        item, ver = await pushes.wait("nurse@localhost", name="Nanny")
        assert item["subscription"] == "none" and item["groups"] == [] and ver == "2"
        query = await roster_query(alice)
        assert query is not None
        items = [(i.get("jid"), i.get("name"), i.get("subscription")) for i in query]
        assert items == [("nurse@localhost", "Nanny", "none")]
        await roster_set(alice, "<item jid='nurse@localhost' subscription='remove'/>")
        await pushes.wait("nurse@localhost", subscription="remove")
        await other_pushes.wait("nurse@localhost", subscription="remove")
        query = await roster_query(alice)
        assert query is not None and list(query) == []
        await flush(lazy)
        assert lazy_pushes.queue.empty()


async def test_versioning_returns_empty_result_when_current(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        await roster_set(alice, "<item jid='a@localhost'/>")
        await roster_set(alice, "<item jid='b@localhost'/>")
        full = await roster_query(alice, ver="")
        assert full is not None and full.get("ver") == "2" and len(full) == 2
        assert await roster_query(alice, ver="2") is None
        stale = await roster_query(alice, ver="1")
        assert stale is not None and stale.get("ver") == "2" and len(stale) == 2
        roster = await alice.get_roster()
        assert roster is not None
        assert set(alice.client_roster.keys()) >= {"a@localhost", "b@localhost"}


@pytest.mark.parametrize(
    ("item_xml", "condition"),
    [
        ("<item jid='a@localhost'/><item jid='b@localhost'/>", "bad-request"),
        ("<item jid='a@localhost'><group>x</group><group>x</group></item>", "bad-request"),
        ("<item jid='a@localhost'><group></group></item>", "not-acceptable"),
        ("<item jid='alice@localhost'/>", "not-acceptable"),
        ("<item jid='@@bad'/>", "jid-malformed"),
        ("<item/>", "bad-request"),
        ("<item jid='ghost@localhost' subscription='remove'/>", "item-not-found"),
    ],
)
async def test_roster_set_validation(tmp_path: Path, item_xml: str, condition: str) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        assert await error_of(alice, item_xml) == condition


async def test_other_users_roster_is_forbidden(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        await handle.add_user("bob@localhost")
        assert await error_of(alice, "<item jid='c@localhost'/>", to="bob@localhost") == "forbidden"


async def test_remove_cancels_both_subscriptions(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice = await user(handle, "alice@localhost")
        bob = await user(handle, "bob@localhost")
        await roster_query(alice)
        await roster_query(bob)
        await subscribe_both(alice, bob)
        bob_pushes = PushLog(bob)
        await roster_set(alice, "<item jid='bob@localhost' subscription='remove'/>")
        await bob.wait_presence(lambda p: p["type"] == "unavailable" and p["from"].bare == "alice@localhost")
        await bob_pushes.wait("alice@localhost", subscription="none")
        query = await roster_query(bob)
        assert query is not None
        assert [(i.get("jid"), i.get("subscription"), i.get("ask")) for i in query] == [
            ("alice@localhost", "none", None)
        ]
        query = await roster_query(alice)
        assert query is not None and list(query) == []
