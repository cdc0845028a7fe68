"""RFC 7395 XMPP over WebSocket: the xmpp subprotocol, <open/>/<close/> framing, login, stanzas."""

from __future__ import annotations

import contextlib
import struct
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable

import pytest

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, spec
from tigase_py.compat_tests.client import local_name, logged_in, namespace, next_id
from tigase_py.compat_tests.suites.web.common import bind_request, bound_jid, message_round_trip, sasl
from tigase_py.compat_tests.suites.web.wsclient import CLOSE, WebSocketClient
from tigase_py.compat_tests.target import Account, Target

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
OPEN, CLOSE_TAG, FEATURES = ns.q(FRAMING, "open"), ns.q(FRAMING, "close"), ns.q(ns.STREAMS, "features")


class XmppSocket:
    """XMPP framing on top of the WebSocket client: every message parsed as one XML element."""

    def __init__(self, ws: WebSocketClient) -> None:
        self.ws = ws
        self.inbox: list[ET.Element] = []

    async def next_element(self) -> ET.Element | None:
        text = await self.ws.receive()
        if text is None:
            return None
        try:
            return ET.fromstring(text)
        except ET.ParseError as exc:
            raise AssertionError(f"a WebSocket message is not one complete XML element ({exc}): {text[:300]}") from None

    async def expect(self, match: Callable[[ET.Element], bool] | str) -> ET.Element:
        predicate = match if callable(match) else (lambda el: el.tag == match)
        for element in self.inbox:
            if predicate(element):
                self.inbox.remove(element)
                return element
        while True:
            received = await self.next_element()
            if received is None:
                raise AssertionError(f"the WebSocket closed while waiting for {match}")
            if predicate(received):
                return received
            self.inbox.append(received)

    async def open(self, domain: str) -> ET.Element:
        """Send <open/>; return the server's <open/> (the features follow as their own message)."""
        await self.ws.send_text(f"<open xmlns='{FRAMING}' to='{domain}' version='1.0' xml:lang='en'/>")
        return await self.expect(OPEN)

    async def login(self, account: Account) -> str:
        await self.open(self.ws.target.domain)
        features = await self.expect(FEATURES)

        async def step(payload: str) -> ET.Element:
            await self.ws.send_text(payload)
            return await self.expect(lambda el: namespace(el.tag) == ns.SASL)

        await sasl(step, features, account)
        await self.open(self.ws.target.domain)
        features = await self.expect(FEATURES)
        assert features.find(ns.q(ns.BIND, "bind")) is not None, describe(features)
        stanza_id = next_id("bind")
        await self.ws.send_text(bind_request(stanza_id))
        jid = bound_jid(await self.expect(lambda el: local_name(el.tag) == "iq" and el.get("id") == stanza_id))
        assert jid, "resource binding over WebSocket failed"
        return jid


def websocket_url(target: Target) -> str:
    if not target.websocket_url:
        pytest.skip("the target gives no WebSocket URL")
    return target.websocket_url


@contextlib.asynccontextmanager
async def xmpp_socket(target: Target) -> AsyncIterator[XmppSocket]:
    ws = WebSocketClient(target, websocket_url(target))
    try:
        await ws.connect()
        yield XmppSocket(ws)
    finally:
        await ws.close()


@spec("RFC7395", "3.1", category="Core Web")
async def test_subprotocol_xmpp(target: Target) -> None:
    """The opening handshake offering the 'xmpp' subprotocol is answered 101 with 'xmpp' chosen."""
    async with xmpp_socket(target) as sock:
        assert sock.ws.status == 101
        assert sock.ws.protocol == "xmpp", f"Sec-WebSocket-Protocol: {sock.ws.protocol!r}"


@spec("RFC7395", "3.4", category="Core Web")
async def test_open_answered(target: Target) -> None:
    """<open/> is answered by the server's <open/> (framing namespace, from, id, version 1.0), then features."""
    async with xmpp_socket(target) as sock:
        answer = await sock.open(target.domain)
        assert answer.get("from") == target.domain, describe(answer)
        assert answer.get("id") and answer.get("version") == "1.0", describe(answer)
        await sock.expect(FEATURES)


@spec("RFC7395", "3.3.3", category="Core Web")
async def test_one_element_per_message(target: Target) -> None:
    """Each message is one complete element: the <open/> and the stream features arrive separately."""
    async with xmpp_socket(target) as sock:
        await sock.ws.send_text(f"<open xmlns='{FRAMING}' to='{target.domain}' version='1.0'/>")
        first = await sock.next_element()
        second = await sock.next_element()
        assert first is not None and first.tag == OPEN, describe(first)
        assert second is not None and second.tag == FEATURES, describe(second)


@spec("RFC7395", "3.5", category="Core Web")
async def test_login_and_bind(target: Target, accounts: list[Account]) -> None:
    """SASL, a stream restart with a new <open/>, and resource binding work over WebSocket."""
    async with xmpp_socket(target) as sock:
        jid = await sock.login(accounts[0])
        assert jid.partition("/")[0] == accounts[0].jid, jid


@spec("RFC7395", "3.5", category="Core Web")
async def test_message_round_trip(target: Target, accounts: list[Account]) -> None:
    """A WebSocket client and a TCP client exchange messages both ways."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with xmpp_socket(target) as sock, logged_in(target, bob_account) as bob:
        jid = await sock.login(alice_account)
        await message_round_trip(sock.ws.send_text, sock.expect, jid, bob, "websocket")


@spec("RFC7395", "3.6", category="Core Web")
async def test_close(target: Target) -> None:
    """<close/> is answered with <close/>; the WebSocket closing handshake then completes."""
    async with xmpp_socket(target) as sock:
        await sock.open(target.domain)
        await sock.ws.send_text(f"<close xmlns='{FRAMING}'/>")
        await sock.expect(CLOSE_TAG)
        await sock.ws.send_frame(CLOSE, struct.pack("!H", 1000))
        # RFC 6455 5.5.1: the server answers with its own close frame (or drops TCP); a timeout fails here.
        while (await sock.ws.receive(5.0)) is not None:
            pass
