"""XEP-0060 Publish-Subscribe on a pubsub service: create, publish, retrieve, subscribe, retract, delete."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests.case import describe, disco_info, need_accounts, not_supported, require_feature, spec
from tigase_py.compat_tests.client import WireClient, logged_in, stanza_error
from tigase_py.compat_tests.suites.advanced.helpers import (
    MESSAGE,
    PUBSUB,
    PUBSUB_EVENT,
    PUBSUB_OWNER,
    find_service,
    identities,
    set_iq,
    unique,
)
from tigase_py.compat_tests.target import Account, Target

PAYLOAD = "urn:compat:payload"


def owner(target: Target, accounts: list[Account]) -> Account:
    """Services often let only administrators create nodes: use the admin account when given."""
    return target.admin or accounts[0]


async def service(client: WireClient, *features: str) -> str:
    jid = await find_service(client, PUBSUB, ("pubsub", "service"))
    for feature in features:
        await require_feature(client, f"{PUBSUB}#{feature}", jid)
    return jid


async def publish(client: WireClient, jid: str, node: str, item: str, text: str) -> ET.Element:
    entry = f"<item id='{item}'><entry xmlns='{PAYLOAD}'>{text}</entry></item>"
    return await set_iq(client, jid, f"<pubsub xmlns='{PUBSUB}'><publish node='{node}'>{entry}</publish></pubsub>")


async def items(client: WireClient, jid: str, node: str, item: str | None = None) -> ET.Element:
    inner = f"<item id='{item}'/>" if item else ""
    return await set_iq(client, jid, f"<pubsub xmlns='{PUBSUB}'><items node='{node}'>{inner}</items></pubsub>", "get")


def item_ids(reply: ET.Element) -> list[str]:
    return [i.get("id", "") for i in reply.findall(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}items/{{{PUBSUB}}}item")]


async def delete_node(client: WireClient, jid: str, node: str) -> ET.Element:
    return await set_iq(client, jid, f"<pubsub xmlns='{PUBSUB_OWNER}'><delete node='{node}'/></pubsub>")


@contextlib.asynccontextmanager
async def new_node(client: WireClient, jid: str) -> AsyncIterator[str]:
    """Create a fresh node (NotSupported if this account may not create nodes); delete it afterwards."""
    node = unique("compat-node")
    reply = await set_iq(client, jid, f"<pubsub xmlns='{PUBSUB}'><create node='{node}'/></pubsub>")
    if reply.get("type") == "error" and stanza_error(reply) in ("forbidden", "not-allowed", "not-authorized"):
        raise not_supported(f"{client.jid} may not create nodes on {jid}: {stanza_error(reply)}")
    assert reply.get("type") == "result", describe(reply)
    try:
        yield node
    finally:
        with contextlib.suppress(Exception):
            await delete_node(client, jid, node)


@spec("XEP-0060", "5.1", category="Core IM")
async def test_service_identity(target: Target, accounts: list[Account]) -> None:
    """A pubsub service found in the server's disco#items has the identity pubsub/service."""
    async with logged_in(target, accounts[0]) as alice:
        jid = await service(alice)
        assert ("pubsub", "service") in identities(await disco_info(alice, jid))


@spec("XEP-0060", "8.1.1", category="Core IM")
async def test_create_node(target: Target, accounts: list[Account]) -> None:
    """Creating a node with a NodeID answers result."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes")
        async with new_node(alice, jid):
            pass


@spec("XEP-0060", "8.1.1", category="Core IM")
async def test_create_existing_node_conflict(target: Target, accounts: list[Account]) -> None:
    """Creating a node whose NodeID already exists MUST fail with <conflict/>."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes")
        async with new_node(alice, jid) as node:
            reply = await set_iq(alice, jid, f"<pubsub xmlns='{PUBSUB}'><create node='{node}'/></pubsub>")
            assert reply.get("type") == "error" and stanza_error(reply) == "conflict", describe(reply)


@spec("XEP-0060", "7.1.2", category="Core IM")
async def test_publish_item(target: Target, accounts: list[Account]) -> None:
    """Publishing an item to a node answers result."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes", "publish")
        async with new_node(alice, jid) as node:
            reply = await publish(alice, jid, node, "first", "hello")
            assert reply.get("type") == "result", describe(reply)


@spec("XEP-0060", "6.5.2", category="Core IM")
async def test_retrieve_items(target: Target, accounts: list[Account]) -> None:
    """Retrieving all items returns the published item with its payload."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes", "publish", "retrieve-items")
        async with new_node(alice, jid) as node:
            text = unique("payload")
            assert (await publish(alice, jid, node, "one", text)).get("type") == "result"
            reply = await items(alice, jid, node)
            assert reply.get("type") == "result", describe(reply)
            assert item_ids(reply) == ["one"], describe(reply)
            assert text in ET.tostring(reply, encoding="unicode"), describe(reply)


@spec("XEP-0060", "6.5.8", category="Core IM")
async def test_retrieve_item_by_id(target: Target, accounts: list[Account]) -> None:
    """Asking for one ItemID returns that item only."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes", "publish", "retrieve-items")
        async with new_node(alice, jid) as node:
            for name in ("a", "b"):
                assert (await publish(alice, jid, node, name, name)).get("type") == "result"
            reply = await items(alice, jid, node, "a")
            assert reply.get("type") == "result" and item_ids(reply) == ["a"], describe(reply)


@spec("XEP-0060", "7.1.2.1", category="Core IM")
async def test_subscriber_notified(target: Target, accounts: list[Account]) -> None:
    """After subscribing, a subscriber gets an event notification naming the published item."""
    bob_account = need_accounts(accounts, 2)[1]
    async with logged_in(target, owner(target, accounts), "owner") as alice, logged_in(target, bob_account) as bob:
        jid = await service(alice, "create-nodes", "publish", "subscribe")
        async with new_node(alice, jid) as node:
            subscribe = f"<pubsub xmlns='{PUBSUB}'><subscribe node='{node}' jid='{bob.jid}'/></pubsub>"
            reply = await set_iq(bob, jid, subscribe)
            if reply.get("type") == "error" and stanza_error(reply) in ("forbidden", "not-authorized"):
                raise not_supported(f"the node's default access model does not let others subscribe: {describe(reply)}")
            assert reply.get("type") == "result", describe(reply)
            assert (await publish(alice, jid, node, "news", "fresh")).get("type") == "result"

            def event(el: ET.Element) -> bool:
                return el.tag == MESSAGE and el.get("from") == jid and el.find(f"{{{PUBSUB_EVENT}}}event") is not None

            message = await bob.expect(event)
            found = message.findall(f"{{{PUBSUB_EVENT}}}event/{{{PUBSUB_EVENT}}}items/{{{PUBSUB_EVENT}}}item")
            assert [i.get("id") for i in found] == ["news"], describe(message)
            assert message.find(f"{{{PUBSUB_EVENT}}}event/{{{PUBSUB_EVENT}}}items").get("node") == node  # type: ignore[union-attr]


@spec("XEP-0060", "7.2", category="Core IM")
async def test_retract_item(target: Target, accounts: list[Account]) -> None:
    """A retracted item is gone: retrieving the node's items no longer lists it."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes", "publish", "delete-items", "retrieve-items")
        async with new_node(alice, jid) as node:
            for name in ("keep", "drop"):
                assert (await publish(alice, jid, node, name, name)).get("type") == "result"
            retract = f"<pubsub xmlns='{PUBSUB}'><retract node='{node}'><item id='drop'/></retract></pubsub>"
            reply = await set_iq(alice, jid, retract)
            assert reply.get("type") == "result", describe(reply)
            listing = await items(alice, jid, node)
            assert listing.get("type") == "result" and item_ids(listing) == ["keep"], describe(listing)


@spec("XEP-0060", "8.4", category="Core IM")
async def test_delete_node(target: Target, accounts: list[Account]) -> None:
    """The owner deletes a node: result; the node's items can no longer be retrieved."""
    async with logged_in(target, owner(target, accounts), "owner") as alice:
        jid = await service(alice, "create-nodes", "delete-nodes", "retrieve-items")
        async with new_node(alice, jid) as node:
            reply = await delete_node(alice, jid, node)
            assert reply.get("type") == "result", describe(reply)
            listing = await items(alice, jid, node)
            assert listing.get("type") == "error", describe(listing)
