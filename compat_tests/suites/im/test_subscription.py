"""RFC 6121 section 3: the subscription handshake, its roster pushes, cancelling and unsubscribing."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_stream_feature, spec
from tigase_py.compat_tests.client import WireClient
from tigase_py.compat_tests.suites.im import (
    WAIT,
    approve,
    bare,
    befriend,
    expect_push,
    online,
    presence_from,
    roster_items,
    settle,
    subscription,
    unfriend,
)
from tigase_py.compat_tests.target import Account, Target

PREAPPROVAL = ns.q("urn:xmpp:features:pre-approval", "sub")


@contextlib.asynccontextmanager
async def strangers(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """Two online, interested, available clients whose accounts are not in each other's rosters."""
    alice_account, bob_account = need_accounts(accounts, 2)
    await unfriend(target, alice_account, bob_account)
    async with (
        online(target, alice_account, roster=True, available=True) as alice,
        online(target, bob_account, roster=True, available=True) as bob,
    ):
        yield alice, bob


@contextlib.asynccontextmanager
async def friends(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """Like ``strangers``, but subscribed to each other ('both')."""
    async with strangers(target, accounts) as (alice, bob):
        assert alice.jid and bob.jid
        await befriend(alice, bob, alice.jid, bob.jid)
        yield alice, bob


async def subscribe(user: WireClient, contact: WireClient) -> ET.Element:
    """``user`` asks to subscribe to ``contact``'s presence; return the request as ``contact`` receives it."""
    await user.send(f"<presence to='{bare(contact.jid)}' type='subscribe'/>")
    return await contact.expect(presence_from(bare(user.jid), "subscribe"), WAIT)


@contextlib.asynccontextmanager
async def approved(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """Like ``strangers``, after alice asked to subscribe to bob's presence and bob approved."""
    async with strangers(target, accounts) as (alice, bob):
        await alice.send(f"<presence to='{bare(bob.jid)}' type='subscribe'/>")
        await approve(bob, bare(alice.jid))
        yield alice, bob


async def end_subscription(ender: WireClient, other: WireClient, kind: str, *, keeps: str, other_keeps: str) -> None:
    """``ender`` sends presence of type ``kind`` (unsubscribe or unsubscribed) to ``other``; the presence reaches
    ``other`` and each side is pushed the subscription it keeps."""
    await ender.send(f"<presence to='{bare(other.jid)}' type='{kind}'/>")
    await expect_push(ender, bare(other.jid), subscription(keeps))
    await other.expect(presence_from(bare(ender.jid), kind), WAIT)
    await expect_push(other, bare(ender.jid), subscription(other_keeps))


@spec("RFC6121", "3.1.2", category="Core IM")
async def test_subscribe_pending_out_push(target: Target, accounts: list[Account]) -> None:
    """After a request the user's server pushes the contact with subscription 'none' and ask='subscribe'."""
    async with strangers(target, accounts) as (alice, bob):
        await alice.send(f"<presence to='{bare(bob.jid)}' type='subscribe'/>")
        await expect_push(alice, bare(bob.jid), subscription("none", ask=True))


@spec("RFC6121", "3.1.2", category="Core IM")
async def test_subscribe_stamped_with_bare_jid(target: Target, accounts: list[Account]) -> None:
    """The request reaches the contact's available resource, stamped with the user's bare JID."""
    async with strangers(target, accounts) as (alice, bob):
        request = await subscribe(alice, bob)
        assert request.get("from", "").lower() == bare(alice.jid), f"not a bare JID: {describe(request)}"


@spec("RFC6121", "3.1.5", category="Core IM")
async def test_approval_stamped_and_delivered(target: Target, accounts: list[Account]) -> None:
    """An approval (even addressed to a full JID) reaches the user stamped with the contact's bare JID."""
    async with strangers(target, accounts) as (alice, bob):
        await subscribe(alice, bob)
        await bob.send(f"<presence to='{alice.jid}' type='subscribed'/>")
        approval = await alice.expect(presence_from(bare(bob.jid), "subscribed"), WAIT)
        assert approval.get("from", "").lower() == bare(bob.jid), f"not a bare JID: {describe(approval)}"


@spec("RFC6121", "3.1.5", category="Core IM")
async def test_approval_push_to_contact(target: Target, accounts: list[Account]) -> None:
    """Approving a request makes the contact's server push the user with subscription 'from'."""
    async with approved(target, accounts) as (alice, bob):
        await expect_push(bob, bare(alice.jid), subscription("from"))


@spec("RFC6121", "3.1.6", category="Core IM")
async def test_approval_push_to_user(target: Target, accounts: list[Account]) -> None:
    """When the approval arrives, the user's server pushes the contact with subscription 'to'."""
    async with approved(target, accounts) as (alice, bob):
        await expect_push(alice, bare(bob.jid), subscription("to"))


@spec("RFC6121", "3.1.5", category="Core IM")
async def test_approval_sends_contact_presence(target: Target, accounts: list[Account]) -> None:
    """After approving, the contact's server sends the user the presence of the contact's available resources."""
    async with approved(target, accounts) as (alice, bob):
        assert bob.jid is not None
        await alice.expect(presence_from(bob.jid), WAIT)


@spec("RFC6121", "3.1", category="Core IM")
async def test_mutual_subscription_both(target: Target, accounts: list[Account]) -> None:
    """Two approved requests give 'both' on each side, in pushes and in the stored rosters."""
    async with friends(target, accounts) as (alice, bob):
        alice_item = (await roster_items(alice)).get(bare(bob.jid))
        bob_item = (await roster_items(bob)).get(bare(alice.jid))
        assert alice_item is not None and alice_item.get("subscription") == "both", describe(alice_item)
        assert bob_item is not None and bob_item.get("subscription") == "both", describe(bob_item)


@spec("RFC6121", "3.1.3", category="Core IM")
async def test_subscribe_when_subscribed_auto_reply(target: Target, accounts: list[Account]) -> None:
    """A request for a subscription the user already has is answered 'subscribed' by the contact's server."""
    async with friends(target, accounts) as (alice, bob):
        await alice.send(f"<presence to='{bare(bob.jid)}' type='subscribe'/>")
        reply = await alice.expect(presence_from(bare(bob.jid), "subscribed"), WAIT)
        assert reply.get("from", "").lower() == bare(bob.jid), describe(reply)


@spec("RFC6121", "3.3.2", category="Core IM")
async def test_unsubscribe_pushes(target: Target, accounts: list[Account]) -> None:
    """Unsubscribing from 'both' leaves 'from' for the user and 'to' for the contact, each pushed."""
    async with friends(target, accounts) as (alice, bob):
        await end_subscription(alice, bob, "unsubscribe", keeps="from", other_keeps="to")


@spec("RFC6121", "3.2.2", category="Core IM")
async def test_cancel_subscription_pushes(target: Target, accounts: list[Account]) -> None:
    """The contact cancelling with 'unsubscribed' leaves 'to' for the contact and 'from' for the user."""
    async with friends(target, accounts) as (alice, bob):
        await end_subscription(bob, alice, "unsubscribed", keeps="to", other_keeps="from")


@spec("RFC6121", "3.2.2", category="Core IM")
async def test_cancel_subscription_sends_unavailable(target: Target, accounts: list[Account]) -> None:
    """Cancelling makes the contact's server send the user unavailable presence from the contact's resources."""
    async with friends(target, accounts) as (alice, bob):
        assert bob.jid is not None
        await bob.send(f"<presence to='{bare(alice.jid)}' type='unsubscribed'/>")
        await alice.expect(presence_from(bob.jid, "unavailable"), WAIT)


@spec("RFC6121", "3.2.3", category="Core IM")
async def test_denied_request(target: Target, accounts: list[Account]) -> None:
    """A request answered 'unsubscribed' reaches the user, whose item is left without a subscription."""
    async with strangers(target, accounts) as (alice, bob):
        await alice.send(f"<presence to='{bare(bob.jid)}' type='subscribe'/>")
        await expect_push(alice, bare(bob.jid), subscription("none", ask=True))
        await bob.expect(presence_from(bare(alice.jid), "subscribe"), WAIT)
        await bob.send(f"<presence to='{bare(alice.jid)}' type='unsubscribed'/>")
        await alice.expect(presence_from(bare(bob.jid), "unsubscribed"), WAIT)
        item = (await roster_items(alice)).get(bare(bob.jid))
        if item is not None:
            assert item.get("subscription", "none") == "none" and item.get("ask") is None, describe(item)


@spec("RFC6121", "2.5.2", category="Core IM")
async def test_remove_item_cancels_both_ways(target: Target, accounts: list[Account]) -> None:
    """Removing a 'both' contact sends the contact 'unsubscribe' and 'unsubscribed' from the user."""
    async with friends(target, accounts) as (alice, bob):
        await alice.send(
            f"<iq type='set' id='rm-both'><query xmlns='{ns.ROSTER}'>"
            f"<item jid='{bare(bob.jid)}' subscription='remove'/></query></iq>"
        )
        await bob.expect(presence_from(bare(alice.jid), "unsubscribe"), WAIT)
        await bob.expect(presence_from(bare(alice.jid), "unsubscribed"), WAIT)
        await expect_push(bob, bare(alice.jid), subscription("none"))


@spec("RFC6121", "3.4", category="Core IM")
async def test_preapproval(target: Target, accounts: list[Account]) -> None:
    """Where pre-approval is offered, a pre-approved request is approved by the server without asking the user."""
    async with strangers(target, accounts) as (alice, bob):
        require_stream_feature(alice, PREAPPROVAL)
        await alice.send(f"<presence to='{bare(bob.jid)}' type='subscribed'/>")
        await settle()
        await bob.send(f"<presence to='{bare(alice.jid)}' type='subscribe'/>")
        await bob.expect(presence_from(bare(alice.jid), "subscribed"), WAIT)
        await expect_push(bob, bare(alice.jid), subscription("to"))
