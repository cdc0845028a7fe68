"""XEP-0191 Blocking Command: block list, block and unblock with pushes, and what blocking does to stanzas."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_feature, spec
from tigase_py.compat_tests.client import WireClient, child_condition, next_id, stanza_error
from tigase_py.compat_tests.suites.im import IQ, WAIT, Predicate, arrives, bare, message_with, online, reply_to, settle
from tigase_py.compat_tests.target import Account, Target

BLOCKING = "urn:xmpp:blocking"
ERRORS = "urn:xmpp:blocking:errors"


async def blocking(client: WireClient, kind: str, inner: str) -> ET.Element:
    return await client.iq(f"<iq type='{kind}' id='{next_id('block')}'>{inner}</iq>")


async def blocklist(client: WireClient) -> set[str]:
    reply = await blocking(client, "get", f"<blocklist xmlns='{BLOCKING}'/>")
    found = reply.find(ns.q(BLOCKING, "blocklist"))
    assert reply.get("type") == "result" and found is not None, describe(reply)
    return {bare(item.get("jid")) for item in found.findall(ns.q(BLOCKING, "item"))}


def block_push(kind: str, jid: str | None) -> Predicate:
    def match(element: ET.Element) -> bool:
        if element.tag != IQ or element.get("type") != "set":
            return False
        command = element.find(ns.q(BLOCKING, kind))
        if command is None:
            return False
        return jid is None or jid in {bare(i.get("jid")) for i in command.findall(ns.q(BLOCKING, "item"))}

    match.__name__ = f"{kind} push for {jid or 'everyone'}"
    return match


@contextlib.asynccontextmanager
async def blocker(
    target: Target, account: Account, resource: str | None = None, available: bool = False
) -> AsyncIterator[WireClient]:
    """A session of ``account`` that has requested its block list; everything is unblocked on exit."""
    async with online(target, account, resource, available=available) as client:
        await require_feature(client, BLOCKING)
        await blocklist(client)
        try:
            yield client
        finally:
            await blocking(client, "set", f"<unblock xmlns='{BLOCKING}'/>")


@contextlib.asynccontextmanager
async def carol_blocked(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """alice (available) has blocked carol; both online."""
    alice_account, _, carol_account = need_accounts(accounts, 3)
    async with blocker(target, alice_account, available=True) as alice:
        await blocking(alice, "set", block(carol_account.jid))
        async with online(target, carol_account) as carol:
            yield alice, carol


def chat(to: str | None, stanza_id: str) -> str:
    return f"<message to='{to}' id='{stanza_id}' type='chat'><body>{stanza_id}</body></message>"


def block(jid: str) -> str:
    return f"<block xmlns='{BLOCKING}'><item jid='{jid}'/></block>"


@spec("XEP-0191", "3.2", category="Core IM")
async def test_blocklist_retrieval(target: Target, accounts: list[Account]) -> None:
    """Where advertised, the block list is returned as a result with a <blocklist/>."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, BLOCKING)
        await blocklist(alice)


@spec("XEP-0191", "3.3", category="Core IM")
async def test_block_result_and_list(target: Target, accounts: list[Account]) -> None:
    """Blocking a JID is answered with a result, and the JID is then on the block list."""
    jid = f"{next_id('spam')}@example.net"
    async with blocker(target, accounts[0]) as alice:
        reply = await blocking(alice, "set", block(jid))
        assert reply.get("type") == "result", describe(reply)
        assert jid in await blocklist(alice), "the blocked JID is not on the block list"


@spec("XEP-0191", "3.3", category="Core IM")
async def test_block_pushed(target: Target, accounts: list[Account]) -> None:
    """A block is pushed to the account's other resources that requested the block list."""
    jid = f"{next_id('spam')}@example.net"
    async with blocker(target, accounts[0], resource="one") as one, blocker(target, accounts[0], resource="two") as two:
        await blocking(one, "set", block(jid))
        await two.expect(block_push("block", jid), WAIT)


@spec("XEP-0191", "3.4", category="Core IM")
async def test_unblock_pushed(target: Target, accounts: list[Account]) -> None:
    """Unblocking a JID is answered with a result, pushed, and the JID leaves the block list."""
    jid = f"{next_id('spam')}@example.net"
    async with blocker(target, accounts[0], resource="one") as one, blocker(target, accounts[0], resource="two") as two:
        await blocking(one, "set", block(jid))
        reply = await blocking(one, "set", f"<unblock xmlns='{BLOCKING}'><item jid='{jid}'/></unblock>")
        assert reply.get("type") == "result", describe(reply)
        await two.expect(block_push("unblock", jid), WAIT)
        assert jid not in await blocklist(one), "the unblocked JID is still on the block list"


@spec("XEP-0191", "3.5", category="Core IM")
async def test_unblock_all(target: Target, accounts: list[Account]) -> None:
    """An <unblock/> without items empties the block list."""
    async with blocker(target, accounts[0]) as alice:
        for _ in range(2):
            await blocking(alice, "set", block(f"{next_id('spam')}@example.net"))
        reply = await blocking(alice, "set", f"<unblock xmlns='{BLOCKING}'/>")
        assert reply.get("type") == "result", describe(reply)
        assert await blocklist(alice) == set(), "the block list is not empty"


@spec("XEP-0191", "3.3", category="Core IM")
async def test_block_without_items(target: Target, accounts: list[Account]) -> None:
    """A <block/> without any <item/> gets <bad-request/>."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, BLOCKING)
        reply = await blocking(alice, "set", f"<block xmlns='{BLOCKING}'/>")
        assert reply.get("type") == "error" and stanza_error(reply) == "bad-request", describe(reply)


@spec("XEP-0191", "3.6", category="Core IM")
async def test_blocked_contact_message_not_delivered(target: Target, accounts: list[Account]) -> None:
    """A message from a blocked JID is not delivered to the user."""
    async with carol_blocked(target, accounts) as (alice, carol):
        stanza_id = next_id("msg")
        await carol.send(chat(alice.jid, stanza_id))
        assert await arrives(alice, message_with(stanza_id)) is None, "a blocked contact's message was delivered"
        error = await arrives(carol, reply_to(stanza_id), 0.2)
        assert error is None or error.get("type") == "error", describe(error)


@spec("XEP-0191", "3.6", category="Core IM")
async def test_blocked_contact_iq_refused(target: Target, accounts: list[Account]) -> None:
    """An IQ get from a blocked JID is not delivered; the sender gets an error."""
    async with carol_blocked(target, accounts) as (alice, carol):
        stanza_id = next_id("ping")
        reply = await carol.iq(f"<iq type='get' id='{stanza_id}' to='{alice.jid}'><ping xmlns='{ns.PING}'/></iq>")
        assert reply.get("type") == "error", describe(reply)
        assert await arrives(alice, lambda el: el.get("id") == stanza_id, 0.2) is None, "IQ delivered"


@spec("XEP-0191", "3.7", category="Core IM")
async def test_message_to_blocked_contact(target: Target, accounts: list[Account]) -> None:
    """A message to a JID the user blocked gets <not-acceptable/> with <blocked xmlns='urn:xmpp:blocking:errors'/>."""
    alice_account, _, carol_account = need_accounts(accounts, 3)
    async with blocker(target, alice_account) as alice, online(target, carol_account, available=True) as carol:
        await blocking(alice, "set", block(carol_account.jid))
        await settle(0.1)
        stanza_id = next_id("msg")
        await alice.send(chat(carol.jid, stanza_id))
        error = await alice.expect(reply_to(stanza_id), WAIT)
        assert stanza_error(error) == "not-acceptable", describe(error)
        element = error.find(ns.q(ns.CLIENT, "error"))
        assert element is not None and element.find(ns.q(ERRORS, "blocked")) is not None, describe(error)
        assert child_condition(element, ns.STANZA_ERRORS) == "not-acceptable", describe(error)
        assert await arrives(carol, message_with(stanza_id), 0.2) is None, "delivered to a blocked contact"
