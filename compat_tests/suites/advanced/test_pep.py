"""XEP-0163 Personal Eventing Protocol: the account's own pubsub service, auto-create, notifications."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests.case import describe, disco_info, need_accounts, not_supported, spec
from tigase_py.compat_tests.client import WireClient, logged_in
from tigase_py.compat_tests.suites.advanced.helpers import (
    MESSAGE,
    PUBSUB,
    PUBSUB_EVENT,
    PUBSUB_OWNER,
    bare,
    identities,
    mutual_subscription,
    set_iq,
    unique,
)
from tigase_py.compat_tests.target import Account, Target

PAYLOAD = "urn:compat:pep"


async def require_pep(client: WireClient) -> None:
    """NotSupported unless the account's bare JID has the identity pubsub/pep (XEP-0163 section 3)."""
    query = await disco_info(client, bare(client.jid))
    if ("pubsub", "pep") not in identities(query):
        raise not_supported(f"{bare(client.jid)} has no pubsub/pep identity in disco#info")


async def publish(client: WireClient, node: str, item: str, text: str) -> ET.Element:
    entry = f"<item id='{item}'><entry xmlns='{PAYLOAD}'>{text}</entry></item>"
    return await set_iq(client, "", f"<pubsub xmlns='{PUBSUB}'><publish node='{node}'>{entry}</publish></pubsub>")


async def drop_node(client: WireClient, node: str) -> None:
    await set_iq(client, "", f"<pubsub xmlns='{PUBSUB_OWNER}'><delete node='{node}'/></pubsub>")


@contextlib.asynccontextmanager
async def scratch_node(client: WireClient) -> AsyncIterator[str]:
    """A fresh PEP node name on the client's account, deleted on exit."""
    node = unique("urn:compat:pep:node")
    try:
        yield node
    finally:
        await drop_node(client, node)


def item_ids(reply: ET.Element) -> list[str]:
    return [i.get("id", "") for i in reply.findall(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}items/{{{PUBSUB}}}item")]


@spec("XEP-0163", "3", category="Core IM")
async def test_account_has_pep_identity(target: Target, accounts: list[Account]) -> None:
    """A PEP service is discoverable on the account's bare JID as identity pubsub/pep."""
    async with logged_in(target, accounts[0]) as alice:
        await require_pep(alice)


@spec("XEP-0163", "4.3", category="Core IM")
async def test_publish_auto_creates(target: Target, accounts: list[Account]) -> None:
    """Publishing to a node that does not exist yet auto-creates it: result, and the item is retrievable."""
    async with logged_in(target, accounts[0]) as alice:
        await require_pep(alice)
        async with scratch_node(alice) as node:
            reply = await publish(alice, node, "current", "on")
            assert reply.get("type") == "result", describe(reply)
            query = f"<pubsub xmlns='{PUBSUB}'><items node='{node}'/></pubsub>"
            listing = await set_iq(alice, bare(alice.jid), query, "get")
            assert listing.get("type") == "result" and item_ids(listing) == ["current"], describe(listing)


@spec("XEP-0163", "4.3.2", category="Core IM")
async def test_contact_notified(target: Target, accounts: list[Account]) -> None:
    """A contact with a presence subscription who subscribed to the node is notified of a publish."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        await require_pep(alice)
        owner = bare(alice.jid)
        async with mutual_subscription(alice, bob), scratch_node(alice) as node:
            assert (await publish(alice, node, "first", "one")).get("type") == "result"
            subscribe = f"<pubsub xmlns='{PUBSUB}'><subscribe node='{node}' jid='{bob.jid}'/></pubsub>"
            reply = await set_iq(bob, owner, subscribe)
            assert reply.get("type") == "result", describe(reply)
            text = unique("mood")
            assert (await publish(alice, node, "second", text)).get("type") == "result"

            def event(el: ET.Element) -> bool:
                ids = [i.get("id") for i in el.iter(f"{{{PUBSUB_EVENT}}}item")]
                return el.tag == MESSAGE and bare(el.get("from")) == owner and "second" in ids

            message = await bob.expect(event)
            items = message.find(f"{{{PUBSUB_EVENT}}}event/{{{PUBSUB_EVENT}}}items")
            assert items is not None and items.get("node") == node, describe(message)


@spec("XEP-0163", "4.2", category="Core IM")
async def test_contact_retrieves_items(target: Target, accounts: list[Account]) -> None:
    """With the default 'presence' access model, a subscribed contact may retrieve the owner's items."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        await require_pep(alice)
        async with mutual_subscription(alice, bob), scratch_node(alice) as node:
            text = unique("tune")
            assert (await publish(alice, node, "latest", text)).get("type") == "result"
            query = f"<pubsub xmlns='{PUBSUB}'><items node='{node}'/></pubsub>"
            listing = await set_iq(bob, bare(alice.jid), query, "get")
            assert listing.get("type") == "result" and item_ids(listing) == ["latest"], describe(listing)
            assert text in ET.tostring(listing, encoding="unicode"), describe(listing)
