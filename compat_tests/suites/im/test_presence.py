"""RFC 6121 section 4: initial presence, probes, broadcast, directed presence and going offline."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, spec
from tigase_py.compat_tests.client import WireClient
from tigase_py.compat_tests.suites.im import (
    WAIT,
    Predicate,
    arrives,
    bare,
    befriend,
    online,
    presence_from,
    unfriend,
)
from tigase_py.compat_tests.target import Account, Target


@contextlib.asynccontextmanager
async def contacts(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[Account, Account]]:
    """alice and bob subscribed to each other ('both'); the sessions used to get there are closed."""
    alice_account, bob_account = need_accounts(accounts, 2)
    await unfriend(target, alice_account, bob_account)
    async with (
        online(target, alice_account, roster=True, available=True, who="alice-setup") as alice,
        online(target, bob_account, roster=True, available=True, who="bob-setup") as bob,
    ):
        assert alice.jid and bob.jid
        await befriend(alice, bob, alice.jid, bob.jid)
    yield alice_account, bob_account


@contextlib.asynccontextmanager
async def strangers(
    target: Target, accounts: list[Account], *, alice_available: bool
) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """alice and carol online, not in each other's rosters; carol available, alice as ``alice_available``."""
    alice_account, _, carol_account = need_accounts(accounts, 3)
    await unfriend(target, alice_account, carol_account)
    async with (
        online(target, carol_account, available=True) as carol,
        online(target, alice_account, available=alice_available) as alice,
    ):
        yield alice, carol


@contextlib.asynccontextmanager
async def contacts_online(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """alice and bob subscribed to each other, both available, after bob has seen alice's presence."""
    async with contacts(target, accounts) as (alice_account, bob_account):
        async with (
            online(target, bob_account, available=True) as bob,
            online(target, alice_account, available=True) as alice,
        ):
            assert alice.jid is not None
            await bob.expect(presence_from(alice.jid), WAIT)
            yield alice, bob


async def send_directed(sender: WireClient, recipient: WireClient, text: str) -> None:
    """``sender`` sends presence with status ``text`` straight to ``recipient``'s full JID, where it arrives."""
    assert sender.jid is not None and recipient.jid is not None
    await sender.send(f"<presence to='{recipient.jid}'><status>{text}</status></presence>")
    await recipient.expect(with_status(sender.jid, text), WAIT)


def status(text: str) -> str:
    return f"<presence><status>{text}</status></presence>"


def with_status(jid: str, text: str) -> Predicate:
    match = presence_from(jid)

    def check(element: ET.Element) -> bool:
        return match(element) and element.findtext(ns.q(ns.CLIENT, "status")) == text

    check.__name__ = f"presence from {jid} with status {text!r}"
    return check


@spec("RFC6121", "4.2.2", category="Core IM")
async def test_initial_presence_broadcast_to_contacts(target: Target, accounts: list[Account]) -> None:
    """Initial presence goes to every contact subscribed to the user, from the user's full JID."""
    async with contacts(target, accounts) as (alice_account, bob_account):
        async with online(target, bob_account, available=True) as bob, online(target, alice_account) as alice:
            assert alice.jid is not None
            await alice.send(status("initial"))
            seen = await bob.expect(with_status(alice.jid, "initial"), WAIT)
            assert (seen.get("from") or "").lower() == alice.jid.lower(), describe(seen)


@spec("RFC6121", "4.2.2", category="Core IM")
async def test_initial_presence_to_own_resources(target: Target, accounts: list[Account]) -> None:
    """Initial presence is also sent to all of the user's available resources, the sending one included."""
    async with (
        online(target, accounts[0], "first", available=True) as first,
        online(target, accounts[0], "second") as second,
    ):
        assert second.jid is not None
        await second.send(status("own-resources"))
        await first.expect(with_status(second.jid, "own-resources"), WAIT)
        await second.expect(with_status(second.jid, "own-resources"), WAIT)


@spec("RFC6121", "4.3.2", category="Core IM")
async def test_probe_answered_with_contact_presence(target: Target, accounts: list[Account]) -> None:
    """On initial presence the user receives the current presence of each available contact resource."""
    async with contacts(target, accounts) as (alice_account, bob_account):
        async with online(target, bob_account, available=True) as bob:
            assert bob.jid is not None
            await bob.send(status("probed"))
            async with online(target, alice_account, available=True) as alice:
                await alice.expect(with_status(bob.jid, "probed"), WAIT)


@spec("RFC6121", "4.4.2", category="Core IM")
async def test_presence_update_broadcast(target: Target, accounts: list[Account]) -> None:
    """A later presence update is broadcast to the contacts subscribed to the user."""
    async with contacts_online(target, accounts) as (alice, bob):
        assert alice.jid is not None
        await alice.send("<presence><show>away</show><status>update</status></presence>")
        update = await bob.expect(with_status(alice.jid, "update"), WAIT)
        assert update.findtext(ns.q(ns.CLIENT, "show")) == "away", describe(update)


@spec("RFC6121", "4.5.2", category="Core IM")
async def test_unavailable_broadcast(target: Target, accounts: list[Account]) -> None:
    """Explicit unavailable presence is broadcast to the contacts subscribed to the user."""
    async with contacts_online(target, accounts) as (alice, bob):
        assert alice.jid is not None
        await alice.send("<presence type='unavailable'/>")
        await bob.expect(presence_from(alice.jid, "unavailable"), WAIT)


@spec("RFC6121", "4.5.2", category="Core IM")
async def test_unavailable_on_disconnect(target: Target, accounts: list[Account]) -> None:
    """A resource whose stream ends without unavailable presence is announced unavailable to contacts."""
    async with contacts(target, accounts) as (alice_account, bob_account):
        async with online(target, bob_account, available=True) as bob:
            alice = WireClient(target, "alice")
            try:
                await alice.login(alice_account)
                await alice.send("<presence/>")
                assert alice.jid is not None
                await bob.expect(presence_from(alice.jid), WAIT)
            finally:
                await alice.close()
            await bob.expect(presence_from(alice.jid, "unavailable"), WAIT)


@spec("RFC6121", "4.6.3", category="Core IM")
async def test_directed_presence_delivered(target: Target, accounts: list[Account]) -> None:
    """Directed presence to an entity without a subscription is delivered, from the user's full JID."""
    async with strangers(target, accounts, alice_available=True) as (alice, carol):
        await send_directed(alice, carol, "directed")


@spec("RFC6121", "4.6.3", category="Core IM")
async def test_directed_presence_unavailable(target: Target, accounts: list[Account]) -> None:
    """After directed presence, the user's unavailable presence also reaches the directed recipient."""
    async with strangers(target, accounts, alice_available=True) as (alice, carol):
        await send_directed(alice, carol, "directed-before-unavailable")
        assert alice.jid is not None
        await alice.send("<presence type='unavailable'/>")
        await carol.expect(presence_from(alice.jid, "unavailable"), WAIT)


@spec("RFC6121", "4.2.2", category="Core IM")
async def test_no_broadcast_without_subscription(target: Target, accounts: list[Account]) -> None:
    """Broadcast presence is not sent to an entity that has no subscription to the user's presence."""
    async with strangers(target, accounts, alice_available=False) as (alice, carol):
        assert alice.jid is not None
        await alice.send(status("private"))
        leaked = await arrives(carol, presence_from(bare(alice.jid)))
        assert leaked is None, f"broadcast reached a non-subscriber: {describe(leaked)}"
