"""RFC 6121 section 8.5 (and RFC 6120 8.1.2.1): how the server routes messages and IQs by address and type."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, spec
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error
from tigase_py.compat_tests.suites.im import (
    WAIT,
    arrives,
    bare,
    iq_reply,
    message_with,
    online,
    receiver_and_sender,
    reply_to,
    settle,
)
from tigase_py.compat_tests.target import Account, Target

UNKNOWN = "<x xmlns='urn:compat:none'/>"


async def send_message(client: WireClient, to: str, kind: str | None, body: str | None = None) -> tuple[str, str]:
    """Send a message; return (its id, its body)."""
    stanza_id, text = next_id("msg"), body or next_id("body")
    attr = "" if kind is None else f" type='{kind}'"
    await client.send(f"<message to='{to}' id='{stanza_id}'{attr}><body>{text}</body></message>")
    return stanza_id, text


async def delivered_to_bare_jid(target: Target, accounts: list[Account], kind: str) -> None:
    """A message of type ``kind`` from alice to bob's bare JID reaches bob's only available resource."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        await settle()
        _, body = await send_message(alice, accounts[1].jid, kind)
        await bob.expect(message_with(body), WAIT)


@contextlib.asynccontextmanager
async def sent_to_two_resources(
    target: Target, accounts: list[Account], kind: str, priorities: tuple[int, int]
) -> AsyncIterator[tuple[WireClient, WireClient, str]]:
    """bob online with two available resources of ``priorities``, and a ``kind`` message from alice to bob's
    bare JID on its way: yields (resource one, resource two, the message body)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with (
        online(target, bob_account, "one", available=True, priority=priorities[0]) as one,
        online(target, bob_account, "two", available=True, priority=priorities[1], who="bob-two") as two,
        online(target, alice_account) as alice,
    ):
        await settle()
        _, body = await send_message(alice, bob_account.jid, kind)
        yield one, two, body


@spec("RFC6121", "8.5.3.1", category="Core IM")
async def test_chat_to_full_jid(target: Target, accounts: list[Account]) -> None:
    """A chat message to the full JID of an available resource is delivered to that resource."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        assert bob.jid is not None
        _, body = await send_message(alice, bob.jid, "chat")
        message = await bob.expect(message_with(body), WAIT)
        assert message.get("type") == "chat", describe(message)


@spec("RFC6120", "8.1.2.1", category="Core IM")
async def test_message_from_stamped_full_jid(target: Target, accounts: list[Account]) -> None:
    """A delivered message carries the sender's full JID in 'from', stamped by the sender's server."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        assert bob.jid is not None and alice.jid is not None
        _, body = await send_message(alice, bob.jid, "chat")
        message = await bob.expect(message_with(body), WAIT)
        assert (message.get("from") or "").lower() == alice.jid.lower(), describe(message)


@spec("RFC6121", "8.5.3.1", category="Core IM")
async def test_normal_to_full_jid(target: Target, accounts: list[Account]) -> None:
    """A message without a type (normal) to an available full JID is delivered."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        assert bob.jid is not None
        _, body = await send_message(alice, bob.jid, None)
        await bob.expect(message_with(body), WAIT)


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_chat_to_bare_jid(target: Target, accounts: list[Account]) -> None:
    """A chat message to the bare JID reaches the user's (only) available resource."""
    await delivered_to_bare_jid(target, accounts, "chat")


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_normal_to_bare_jid(target: Target, accounts: list[Account]) -> None:
    """A normal message to the bare JID reaches the user's (only) available resource."""
    await delivered_to_bare_jid(target, accounts, "normal")


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_chat_to_bare_jid_two_resources(target: Target, accounts: list[Account]) -> None:
    """With two available resources of equal priority, a chat to the bare JID reaches at least one of them."""
    async with sent_to_two_resources(target, accounts, "chat", (1, 1)) as (one, two, body):
        got = [await arrives(one, message_with(body), WAIT / 2), await arrives(two, message_with(body), 0.5)]
        assert any(got), "the message reached neither resource"


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_headline_to_bare_jid_all_resources(target: Target, accounts: list[Account]) -> None:
    """A headline to the bare JID is delivered to every available resource with non-negative priority."""
    async with sent_to_two_resources(target, accounts, "headline", (0, 5)) as (one, two, body):
        await one.expect(message_with(body), WAIT)
        await two.expect(message_with(body), WAIT)


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_negative_priority_gets_no_bare_message(target: Target, accounts: list[Account]) -> None:
    """A resource with negative priority is not given messages addressed to the bare JID."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with (
        online(target, bob_account, "negative", available=True, priority=-1) as negative,
        online(target, alice_account) as alice,
    ):
        await settle()
        _, body = await send_message(alice, bob_account.jid, "chat")
        leaked = await arrives(negative, message_with(body))
        assert leaked is None, f"delivered to a negative-priority resource: {describe(leaked)}"


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_groupchat_to_bare_jid_refused(target: Target, accounts: list[Account]) -> None:
    """A groupchat message to a user's bare JID is not delivered; the sender gets an error."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        await settle()
        stanza_id, body = await send_message(alice, accounts[1].jid, "groupchat")
        error = await alice.expect(reply_to(stanza_id), WAIT)
        assert error.tag == ns.q(ns.CLIENT, "message"), describe(error)
        assert await arrives(bob, message_with(body), 0.3) is None, "groupchat delivered to a user's bare JID"


@spec("RFC6121", "8.5.3.2.1", category="Core IM")
async def test_groupchat_to_offline_resource_refused(target: Target, accounts: list[Account]) -> None:
    """A groupchat message to a full JID with no such resource gets an error."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, alice_account) as alice:
        stanza_id, _ = await send_message(alice, f"{bob_account.jid}/gone-{next_id('r')}", "groupchat")
        error = await alice.expect(reply_to(stanza_id), WAIT)
        assert error.tag == ns.q(ns.CLIENT, "message"), describe(error)


@spec("RFC6121", "8.5.3.2.1", category="Core IM")
async def test_iq_to_offline_resource(target: Target, accounts: list[Account]) -> None:
    """An IQ to the full JID of a resource that is not connected gets <service-unavailable/>."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, alice_account) as alice:
        to = f"{bob_account.jid}/gone-{next_id('r')}"
        reply = await iq_reply(alice, "get", f"<query xmlns='{ns.VERSION}'/>", to, "error")
        assert stanza_error(reply) == "service-unavailable", describe(reply)


@spec("RFC6121", "8.5.2.1.3", category="Core IM")
async def test_iq_to_bare_jid_unknown_payload(target: Target, accounts: list[Account]) -> None:
    """An IQ get to a user's bare JID that the server does not understand is answered with an error for the user."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        stanza_id = next_id()
        reply = await alice.iq(f"<iq type='get' id='{stanza_id}' to='{accounts[1].jid}'>{UNKNOWN}</iq>")
        assert reply.get("type") == "error", describe(reply)
        assert stanza_error(reply) in ("service-unavailable", "feature-not-implemented"), describe(reply)
        assert await arrives(bob, lambda el: el.get("id") == stanza_id, 0.3) is None, "IQ to bare JID was delivered"


@spec("RFC6121", "8.5.1", category="Core IM")
async def test_message_to_unknown_user(target: Target, accounts: list[Account]) -> None:
    """A message to a local user that does not exist is dropped or answered with <service-unavailable/>."""
    async with online(target, accounts[0]) as alice:
        stanza_id, _ = await send_message(alice, f"nobody-{next_id('u')}@{target.domain}", "chat")
        error = await arrives(alice, reply_to(stanza_id))
        if error is not None:
            assert stanza_error(error) == "service-unavailable", describe(error)


@spec("RFC6121", "8.5.2.1.1", category="Core IM")
async def test_chat_to_own_bare_jid(target: Target, accounts: list[Account]) -> None:
    """A chat to the user's own bare JID reaches the user's available resource like any other."""
    async with (
        online(target, accounts[0], "reader", available=True) as reader,
        online(target, accounts[0], "writer", who="alice-writer") as writer,
    ):
        await settle()
        _, body = await send_message(writer, bare(reader.jid), "chat")
        await reader.expect(message_with(body), WAIT)
