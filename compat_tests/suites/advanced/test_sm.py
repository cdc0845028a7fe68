"""XEP-0198 Stream Management: enabling, acks, order of negotiation, resumption with redelivery."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, not_supported, require_stream_feature, spec
from tigase_py.compat_tests.client import WireClient, local_name, logged_in, namespace, next_id
from tigase_py.compat_tests.suites.advanced.helpers import body_is, unique
from tigase_py.compat_tests.target import Account, Target

SM_FEATURE = ns.q(ns.SM, "sm")


def sm_element(el: ET.Element) -> bool:
    return namespace(el.tag) == ns.SM and local_name(el.tag) in ("enabled", "failed", "resumed", "a")


async def authenticated(target: Target, account: Account) -> WireClient:
    """A client past SASL (not bound), with SM offered in the stream features, else NotSupported."""
    client = WireClient(target, account.local)
    try:
        await client.secure()
        await client.authenticate(account)
        require_stream_feature(client, SM_FEATURE)
    except BaseException:
        await client.close()
        raise
    return client


@contextlib.asynccontextmanager
async def managed(
    target: Target, account: Account, resume: bool = False
) -> AsyncIterator[tuple[WireClient, ET.Element]]:
    """A bound client that enabled SM; yields (client, <enabled/>)."""
    client = await authenticated(target, account)
    try:
        await client.bind()
        extra = " resume='true'" if resume else ""
        await client.send(f"<enable xmlns='{ns.SM}'{extra}/>")
        enabled = await client.expect(sm_element)
        assert local_name(enabled.tag) == "enabled", describe(enabled)
        yield client, enabled
    finally:
        await client.close()


async def failed_before_bind(target: Target, account: Account, request: str) -> None:
    """``request`` sent after SASL, before binding, is answered with SM's <failed/>."""
    client = await authenticated(target, account)
    try:
        await client.send(request)
        answer = await client.expect(sm_element)
        assert local_name(answer.tag) == "failed", describe(answer)
    finally:
        await client.close()


async def drop(client: WireClient) -> None:
    """Cut the TCP connection without closing the stream (what a mobile network does)."""
    writer = client._writer
    if writer is not None:
        writer.transport.abort()
    await client.wait_closed(2.0)
    client._writer = None


@spec("XEP-0198", "3", category="Core Mobile")
async def test_enable(target: Target, accounts: list[Account]) -> None:
    """A server offering SM answers <enable/> after binding with <enabled/>."""
    async with managed(target, accounts[0]):
        pass


@spec("XEP-0198", "3", category="Core Mobile")
async def test_enable_before_bind_fails(target: Target, accounts: list[Account]) -> None:
    """SM is enabled after resource binding; the server SHALL enforce the order and answer <failed/>."""
    await failed_before_bind(target, accounts[0], f"<enable xmlns='{ns.SM}'/>")


@spec("XEP-0198", "4", category="Core Mobile")
async def test_ack_counts_handled_stanzas(target: Target, accounts: list[Account]) -> None:
    """After two handled IQs, <r/> is answered with <a h='2'/>."""
    async with managed(target, accounts[0]) as (client, _enabled):
        for _ in range(2):
            ping = f"<iq type='get' id='{next_id()}' to='{target.domain}'><ping xmlns='{ns.PING}'/></iq>"
            await client.iq(ping)
        await client.send(f"<r xmlns='{ns.SM}'/>")
        answer = await client.expect(ns.q(ns.SM, "a"))
        assert answer.get("h") == "2", describe(answer)


@spec("XEP-0198", "4", category="Core Mobile")
async def test_ack_before_any_stanza(target: Target, accounts: list[Account]) -> None:
    """Right after enabling, <r/> is answered with <a h='0'/>: counting starts at enable."""
    async with managed(target, accounts[0]) as (client, _enabled):
        await client.send(f"<r xmlns='{ns.SM}'/>")
        answer = await client.expect(ns.q(ns.SM, "a"))
        assert answer.get("h") == "0", describe(answer)


@spec("XEP-0198", "5", category="Core Mobile")
async def test_resume_unknown_previd_fails(target: Target, accounts: list[Account]) -> None:
    """Resuming a session the server does not know MUST be answered with <failed/>."""
    await failed_before_bind(
        target, accounts[0], f"<resume xmlns='{ns.SM}' h='0' previd='{unique('compat-unknown')}'/>"
    )


@spec("XEP-0198", "5", category="Core Mobile")
async def test_resume_redelivers(target: Target, accounts: list[Account]) -> None:
    """After a dropped connection, <resume/> gets <resumed/> (same previd, our h) and unacked stanzas again."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with managed(target, alice_account, resume=True) as (alice, enabled), logged_in(target, bob_account) as bob:
        previd = enabled.get("id")
        if enabled.get("resume") not in ("true", "1") or not previd:
            raise not_supported("the server does not offer session resumption (no resume='true' and id)")
        text = unique("while you were away")
        await bob.send(f"<message to='{alice.jid}' type='chat'><body>{text}</body></message>")
        await alice.expect(body_is(text))
        await drop(alice)
        again = await authenticated(target, alice_account)
        try:
            await again.send(f"<resume xmlns='{ns.SM}' h='0' previd='{previd}'/>")
            answer = await again.expect(sm_element)
            assert local_name(answer.tag) == "resumed", describe(answer)
            assert answer.get("previd") == previd, describe(answer)
            assert answer.get("h") == "0", describe(answer)
            redelivered = await again.expect(body_is(text))
            assert redelivered.get("from") == bob.jid, describe(redelivered)
            await again.send(f"<a xmlns='{ns.SM}' h='1'/>")  # handled: keep it out of offline storage on close
        finally:
            await again.close()
