"""PubSub (XEP-0060) on pubsub.localhost, driven by slixmpp's xep_0060 plugin as an independent client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from slixmpp.exceptions import IqError

from tests.xmpp_harness import TIMEOUT, login, running_server
from tigase_py.server.storage.migrate import upgrade_schema
from tigase_py.server.stores.offline import OFFLINE

EXTRA = '[modules]\nenabled = ["roster", "presence", "disco", "ping", "pubsub"]\n'
SERVICE = "pubsub.localhost"
NS_ERRORS = "http://jabber.org/protocol/pubsub#errors"
ENTRY = "urn:example:alerts"


def entry(text: str) -> ElementTree.Element:
    element = ElementTree.Element(f"{{{ENTRY}}}alert")
    element.text = text
    return element


def app_condition(error: IqError) -> str | None:
    found = error.iq.xml.find(f"{{jabber:client}}error/{{{NS_ERRORS}}}*")
    return None if found is None else found.tag.split("}", 1)[1]


@pytest.mark.parametrize("storage_url", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True)
async def test_node_lifecycle_events_and_errors(tmp_path: Path, storage_url: str) -> None:
    await upgrade_schema(storage_url)
    async with running_server(tmp_path, extra=EXTRA, storage_url=storage_url) as handle:
        await handle.add_user("alice@localhost")
        await handle.add_user("bob@localhost")
        alice = await login(handle, "alice@localhost", plugins=("xep_0060",))
        bob = await login(handle, "bob@localhost", plugins=("xep_0060",))
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        bob.add_event_handler("pubsub_publish", lambda msg: events.put_nowait(("publish", msg)))
        bob.add_event_handler("pubsub_retract", lambda msg: events.put_nowait(("retract", msg)))

        info = await alice.plugin["xep_0030"].get_info(jid=SERVICE, timeout=TIMEOUT)
        identities = info["disco_info"]["identities"]
        assert ("pubsub", "service", None, "Publish-Subscribe") in identities, identities
        assert "http://jabber.org/protocol/pubsub#publish" in info["disco_info"]["features"]

        await alice.plugin["xep_0060"].create_node(SERVICE, "alerts", timeout=TIMEOUT)
        listed = await bob.plugin["xep_0030"].get_items(jid=SERVICE, timeout=TIMEOUT)
        assert [(jid, node) for jid, node, _ in listed["disco_items"]["items"]] == [(SERVICE, "alerts")]
        subscribed = await bob.plugin["xep_0060"].subscribe(SERVICE, "alerts", timeout=TIMEOUT)
        assert subscribed["pubsub"]["subscription"]["subscription"] == "subscribed"

        published = await alice.plugin["xep_0060"].publish(
            SERVICE, "alerts", id="a1", payload=entry("flood"), timeout=TIMEOUT
        )
        assert published["pubsub"]["publish"]["item"]["id"] == "a1"
        kind, message = await asyncio.wait_for(events.get(), TIMEOUT)
        item = message["pubsub_event"]["items"]["item"]
        assert kind == "publish" and message["from"] == SERVICE and item["id"] == "a1"
        assert item["payload"].tag == f"{{{ENTRY}}}alert" and item["payload"].text == "flood"

        await alice.plugin["xep_0060"].publish(SERVICE, "alerts", id="a2", payload=entry("storm"), timeout=TIMEOUT)
        assert (await asyncio.wait_for(events.get(), TIMEOUT))[0] == "publish"
        await alice.plugin["xep_0060"].retract(SERVICE, "alerts", "a1", notify=True, timeout=TIMEOUT)
        kind, message = await asyncio.wait_for(events.get(), TIMEOUT)
        assert kind == "retract" and message["pubsub_event"]["items"]["retract"]["id"] == "a1"

        items = await bob.plugin["xep_0060"].get_items(SERVICE, "alerts", timeout=TIMEOUT)
        got = [(i["id"], i["payload"].text) for i in items["pubsub"]["items"]]
        assert got == [("a2", "storm")]

        with pytest.raises(IqError) as denied:
            await bob.plugin["xep_0060"].delete_node(SERVICE, "alerts", timeout=TIMEOUT)
        assert denied.value.condition == "forbidden"
        with pytest.raises(IqError) as unknown:
            await bob.plugin["xep_0060"].get_items(SERVICE, "nowhere", timeout=TIMEOUT)
        assert unknown.value.condition == "item-not-found"
        with pytest.raises(IqError) as exists:
            await bob.plugin["xep_0060"].create_node(SERVICE, "alerts", timeout=TIMEOUT)
        assert exists.value.condition == "conflict"
        with pytest.raises(IqError) as foreign:
            await bob.plugin["xep_0060"].subscribe(SERVICE, "alerts", subscribee="alice@localhost", timeout=TIMEOUT)
        assert (foreign.value.condition, app_condition(foreign.value)) == ("bad-request", "invalid-jid")

        await alice.plugin["xep_0060"].delete_node(SERVICE, "alerts", timeout=TIMEOUT)
        with pytest.raises(IqError) as gone:
            await alice.plugin["xep_0060"].get_items(SERVICE, "alerts", timeout=TIMEOUT)
        assert gone.value.condition == "item-not-found"


async def test_disco_pages_nodes_and_describes_a_node(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("alice@localhost")
        alice = await login(handle, "alice@localhost", plugins=("xep_0060", "xep_0059", "xep_0128"))
        form = alice.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#node_config")
        form.add_field(var="pubsub#title", value="Weather")
        form.add_field(var="pubsub#max_items", value="5")
        await alice.plugin["xep_0060"].create_node(SERVICE, "weather", config=form, timeout=TIMEOUT)
        for number in range(12):
            await alice.plugin["xep_0060"].create_node(SERVICE, f"n{number:02}", timeout=TIMEOUT)

        info = await alice.plugin["xep_0030"].get_info(jid=SERVICE, node="weather", timeout=TIMEOUT)
        assert ("pubsub", "leaf", None, "Weather") in info["disco_info"]["identities"]
        meta = info["disco_info"]["form"].get_values()
        assert meta["FORM_TYPE"] == ["http://jabber.org/protocol/pubsub#meta-data"]  # as slixmpp reads it
        assert meta["pubsub#max_items"] == "5" and meta["pubsub#owner"] == ["alice@localhost"]

        first = await alice.plugin["xep_0030"].get_items(jid=SERVICE, timeout=TIMEOUT, iterator=False)
        every = sorted(node for _, node, _ in first["disco_items"]["items"])  # slixmpp gives a set
        assert every == sorted([f"n{n:02}" for n in range(12)] + ["weather"])
        pages = []
        query = alice.make_iq_get(ito=SERVICE)
        query.enable("disco_items")
        async for page in alice.plugin["xep_0059"].iterate(query, "disco_items", amount=5):
            pages.append(sorted(node for _, node, _ in page["disco_items"]["items"]))
            assert page["disco_items"]["rsm"]["count"] == "13"
            if len(pages) > 5:
                break
        assert [len(p) for p in pages] == [5, 5, 3] and sum(pages, []) == every


async def test_offline_subscribers_get_nothing_stored_and_admins_manage_any_node(tmp_path: Path) -> None:
    extra = '[modules]\nenabled = ["roster", "presence", "offline", "disco", "ping", "pubsub"]\n'
    async with running_server(tmp_path, extra=extra, admins=("root@localhost",)) as handle:
        for user in ("alice", "carol", "root"):
            await handle.add_user(f"{user}@localhost")
        alice = await login(handle, "alice@localhost", plugins=("xep_0060",))
        carol = await login(handle, "carol@localhost", plugins=("xep_0060",))
        await alice.plugin["xep_0060"].create_node(SERVICE, "alerts", timeout=TIMEOUT)
        await carol.plugin["xep_0060"].subscribe(SERVICE, "alerts", timeout=TIMEOUT)
        carol.disconnect()
        await asyncio.wait_for(carol.disconnected, TIMEOUT)
        async with asyncio.timeout(TIMEOUT):  # until the server has seen carol go
            while handle.server.sessions.has_resources("carol@localhost"):
                await asyncio.sleep(0.02)
        await alice.plugin["xep_0060"].publish(SERVICE, "alerts", id="a1", payload=entry("quake"), timeout=TIMEOUT)
        assert await handle.server.storage.store(OFFLINE).count("carol@localhost") == 0  # online-only delivery

        root = await login(handle, "root@localhost", plugins=("xep_0060",))
        await root.plugin["xep_0060"].delete_node(SERVICE, "alerts", timeout=TIMEOUT)  # a server admin
        with pytest.raises(IqError) as gone:
            await alice.plugin["xep_0060"].get_items(SERVICE, "alerts", timeout=TIMEOUT)
        assert gone.value.condition == "item-not-found"
