"""XEP-0124 BOSH and XEP-0206 XMPP over BOSH: session creation, login, a message round trip, ending."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, spec
from tigase_py.compat_tests.client import local_name, logged_in, namespace, next_id
from tigase_py.compat_tests.suites.advanced.helpers import unique
from tigase_py.compat_tests.suites.web.bosh import BODY, XBOSH, BoshClient
from tigase_py.compat_tests.suites.web.common import bind_request, bound_jid, message_round_trip, sasl
from tigase_py.compat_tests.target import Account, Target

FEATURES = ns.q(ns.STREAMS, "features")


def bosh_url(target: Target) -> str:
    if not target.bosh_url:
        pytest.skip("the target gives no BOSH URL")
    return target.bosh_url


@contextlib.asynccontextmanager
async def session(target: Target) -> AsyncIterator[tuple[BoshClient, ET.Element]]:
    """A created BOSH session: yields (client, session creation response)."""
    client = BoshClient(target, bosh_url(target))
    try:
        body = await client.create()
        yield client, body
    finally:
        await client.close()


async def login(client: BoshClient, account: Account) -> str:
    """SASL, stream restart (XEP-0206 5) and resource binding over BOSH; return the bound JID."""
    features = await client.expect(FEATURES)

    async def step(payload: str) -> ET.Element:
        await client.send(payload)
        return await client.expect(lambda el: namespace(el.tag) == ns.SASL)

    await sasl(step, features, account)
    await client.send("", to=client.target.domain, xmpp__restart="true", **{"xml:lang": "en"})
    features = await client.expect(FEATURES)
    assert features.find(ns.q(ns.BIND, "bind")) is not None, describe(features)
    stanza_id = next_id("bind")
    await client.send(bind_request(stanza_id))
    reply = await client.expect(lambda el: local_name(el.tag) == "iq" and el.get("id") == stanza_id)
    jid = bound_jid(reply)
    assert jid, describe(reply)
    return jid


@spec("XEP-0124", "7.1", category="Core Web")
async def test_session_creation(target: Target) -> None:
    """The session creation response is a <body/> in the httpbind namespace with 'sid' and 'wait'."""
    async with session(target) as (_client, body):
        assert body.tag == BODY, describe(body)
        assert body.get("sid") and body.get("wait"), describe(body)
        assert body.get("type") != "terminate", describe(body)


@spec("XEP-0206", "3", category="Core Web")
async def test_session_creation_xmpp_version(target: Target) -> None:
    """Asked for xmpp:version 1.0, the connection manager answers with its xmpp:version and stream features."""
    async with session(target) as (client, body):
        assert body.get(ns.q(XBOSH, "version")), describe(body)
        features = await client.expect(FEATURES)
        assert features.find(f"{{{ns.SASL}}}mechanisms") is not None, describe(features)


@spec("XEP-0206", "5", category="Core Web")
async def test_login_and_bind(target: Target, accounts: list[Account]) -> None:
    """SASL, a stream restart with xmpp:restart='true' and resource binding work over BOSH."""
    async with session(target) as (client, _body):
        jid = await login(client, accounts[0])
        assert jid.partition("/")[0] == accounts[0].jid, jid


@spec("XEP-0206", "5", category="Core Web")
async def test_iq_round_trip(target: Target, accounts: list[Account]) -> None:
    """After login, an IQ sent over BOSH gets its result over BOSH."""
    async with session(target) as (client, _body):
        await login(client, accounts[0])
        stanza_id = next_id("ping")
        ping = f"<ping xmlns='{ns.PING}'/>"
        await client.send(f"<iq type='get' id='{stanza_id}' to='{target.domain}' xmlns='{ns.CLIENT}'>{ping}</iq>")
        reply = await client.expect(lambda el: local_name(el.tag) == "iq" and el.get("id") == stanza_id)
        assert reply.get("type") in ("result", "error"), describe(reply)


@spec("XEP-0206", "5", category="Core Web")
async def test_message_round_trip(target: Target, accounts: list[Account]) -> None:
    """A BOSH client and a TCP client exchange messages both ways."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with session(target) as (client, _body), logged_in(target, bob_account) as bob:
        jid = await login(client, alice_account)
        await message_round_trip(client.send, client.expect, jid, bob, "bosh")


@spec("XEP-0124", "13", category="Core Web")
async def test_terminate_ends_session(target: Target) -> None:
    """After a type='terminate' request, the session's sid is no longer accepted."""
    async with session(target) as (client, _body):
        status, _ = await client.post(client.wrap(type="terminate"))
        assert status == 200, f"terminate answered HTTP {status}"
        status, body = await client.post(client.wrap())
        assert status != 200 or (body is not None and body.get("type") == "terminate"), describe(body)


@spec("XEP-0124", "17.2", category="Core Web")
async def test_unknown_sid(target: Target) -> None:
    """A request for a session that does not exist gets item-not-found (or HTTP 404 for legacy clients)."""
    client = BoshClient(target, bosh_url(target))
    client.sid = unique("no-such-sid")
    status, body = await client.post(client.wrap())
    if status == 200:
        assert body is not None and body.get("type") == "terminate", describe(body)
        assert body.get("condition") == "item-not-found", describe(body)
    else:
        assert status in (400, 404), f"HTTP {status}"
