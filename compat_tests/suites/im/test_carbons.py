"""XEP-0280 Message Carbons: enable/disable, received and sent copies, private messages, opted-out resources."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_feature, spec
from tigase_py.compat_tests.client import WireClient, next_id
from tigase_py.compat_tests.suites.im import MESSAGE, WAIT, Predicate, arrives, bare, online, settle
from tigase_py.compat_tests.target import Account, Target

CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"


async def toggle(client: WireClient, on: bool) -> ET.Element:
    command = "enable" if on else "disable"
    return await client.iq(f"<iq type='set' id='{next_id('carbons')}'><{command} xmlns='{CARBONS}'/></iq>")


def carbon(kind: str, body: str) -> Predicate:
    """A <message/> wrapping a ``kind`` (received/sent) carbon of the message with ``body``."""

    def match(element: ET.Element) -> bool:
        inner = element.find(f"{{{CARBONS}}}{kind}/{{{FORWARD}}}forwarded/{MESSAGE}")
        return element.tag == MESSAGE and inner is not None and inner.findtext(ns.q(ns.CLIENT, "body")) == body

    match.__name__ = f"{kind} carbon of {body!r}"
    return match


@contextlib.asynccontextmanager
async def two_resources(
    target: Target, account: Account, enable_second: bool = True
) -> AsyncIterator[tuple[WireClient, WireClient]]:
    async with (
        online(target, account, "one", available=True) as one,
        online(target, account, "two", available=True, who=f"{account.local}-two") as two,
    ):
        await require_feature(one, CARBONS)
        assert (await toggle(one, True)).get("type") == "result"
        if enable_second:
            assert (await toggle(two, True)).get("type") == "result"
        await settle(0.2)
        yield one, two


async def copied(sender: WireClient, to: str | None, other: WireClient, kind: str) -> None:
    """A chat from ``sender`` to ``to`` reaches ``other`` (a resource of the same account as the carbon side)
    wrapped in ``<received/>`` or ``<sent/>`` (``kind``), the wrapper from the account's bare JID."""
    body = next_id("carbon")
    await sender.send(f"<message to='{to}' type='chat'><body>{body}</body></message>")
    copy = await other.expect(carbon(kind, body), WAIT)
    assert bare(copy.get("from")) == bare(other.jid) and "/" not in (copy.get("from") or ""), describe(copy)


@spec("XEP-0280", "4", category="Core IM")
async def test_enable(target: Target, accounts: list[Account]) -> None:
    """Where advertised, <enable/> is answered with a result."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, CARBONS)
        reply = await toggle(alice, True)
        assert reply.get("type") == "result", describe(reply)


@spec("XEP-0280", "5", category="Core IM")
async def test_disable(target: Target, accounts: list[Account]) -> None:
    """Where advertised, <disable/> after <enable/> is answered with a result."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, CARBONS)
        await toggle(alice, True)
        reply = await toggle(alice, False)
        assert reply.get("type") == "result", describe(reply)


@spec("XEP-0280", "6", category="Core IM")
async def test_received_carbon(target: Target, accounts: list[Account]) -> None:
    """A chat to one resource is copied, wrapped in <received/>, to the user's other enabled resource."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with two_resources(target, alice_account) as (one, two), online(target, bob_account) as bob:
        await copied(bob, one.jid, two, "received")


@spec("XEP-0280", "7", category="Core IM")
async def test_sent_carbon(target: Target, accounts: list[Account]) -> None:
    """A chat sent by one resource is copied, wrapped in <sent/>, to the user's other enabled resource."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with two_resources(target, alice_account) as (one, two):
        await copied(one, bob_account.jid, two, "sent")


@spec("XEP-0280", "8", category="Core IM")
async def test_private_not_copied(target: Target, accounts: list[Account]) -> None:
    """A message marked <private/> (with <no-copy/>) is not carbon-copied."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with two_resources(target, alice_account) as (one, two):
        body = next_id("private")
        hints = f"<private xmlns='{CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/>"
        await one.send(f"<message to='{bob_account.jid}' type='chat'><body>{body}</body>{hints}</message>")
        leaked = await arrives(two, carbon("sent", body))
        assert leaked is None, f"a private message was copied: {describe(leaked)}"


@spec("XEP-0280", "6", category="Core IM")
async def test_no_carbon_without_enable(target: Target, accounts: list[Account]) -> None:
    """A resource that did not enable carbons receives no copies."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with (
        two_resources(target, alice_account, enable_second=False) as (one, two),
        online(target, bob_account) as bob,
    ):
        body = next_id("carbon")
        await bob.send(f"<message to='{one.jid}' type='chat'><body>{body}</body></message>")
        leaked = await arrives(two, carbon("received", body))
        assert leaked is None, f"copied to a resource that did not enable carbons: {describe(leaked)}"
