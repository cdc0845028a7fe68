"""XEP-0114 Jabber Component Protocol: the accept stream, the handshake, routing to and from a component.

The target gives a component port and secret but no component name; the cases connect as
``component.<domain>`` (the name the bundled Prosody peer configures). A server that does not know that
name (host-unknown) makes the cases "not supported".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, not_supported, spec
from tigase_py.compat_tests.client import WireClient, logged_in
from tigase_py.compat_tests.suites.advanced.helpers import body_is, unique
from tigase_py.compat_tests.target import Account, Target

HANDSHAKE = ns.q(ns.COMPONENT, "handshake")
COMPONENT_MESSAGE = ns.q(ns.COMPONENT, "message")


def component_name(target: Target) -> str:
    return f"component.{target.domain}"


def plain_target(target: Target) -> Target:
    """The same server reached on the component port (XEP-0114 streams are not TLS-negotiated)."""
    if target.component_port is None or target.component_secret is None:
        pytest.skip("the target gives no component port and secret")
    return Target(host=target.host, port=target.component_port, domain=target.domain, tls="plain", name=target.name)


async def open_accept_stream(client: WireClient, name: str) -> str:
    """Send the jabber:component:accept header; return the stream id of the server's answer."""
    await client.connect()
    await client.send(
        f"<?xml version='1.0'?><stream:stream xmlns='{ns.COMPONENT}' xmlns:stream='{ns.STREAMS}' to='{name}'>"
    )
    for _ in range(200):
        if client.header is not None or client.closed:
            break
        await asyncio.sleep(0.05)
    if client.header is None:
        condition = client.stream_error()
        if condition == "host-unknown":
            raise not_supported(f"the server has no component named {name}")
        raise AssertionError(f"no stream header in answer (stream error: {condition})")
    stream_id = client.header.get("id")
    assert stream_id, f"the server's header has no id: {client.header.attrib}"
    return stream_id


def digest(stream_id: str, secret: str) -> str:
    return hashlib.sha1((stream_id + secret).encode()).hexdigest()


@contextlib.asynccontextmanager
async def component(target: Target) -> AsyncIterator[WireClient]:
    """A component connected and authenticated with the handshake."""
    client = WireClient(plain_target(target), "component")
    try:
        stream_id = await open_accept_stream(client, component_name(target))
        await client.send(f"<handshake>{digest(stream_id, target.component_secret or '')}</handshake>")
        answer = await client.expect(lambda el: el.tag in (HANDSHAKE, ns.q(ns.STREAMS, "error")))
        assert answer.tag == HANDSHAKE, describe(answer)
        yield client
    finally:
        await client.close()


@spec("XEP-0114", "3", category="Core Server")
async def test_stream_header_has_id(target: Target) -> None:
    """The server answers a component stream header with one carrying an id (the handshake needs it)."""
    client = WireClient(plain_target(target), "component")
    try:
        await open_accept_stream(client, component_name(target))
    finally:
        await client.close()


@spec("XEP-0114", "3", category="Core Server")
async def test_handshake_accepted(target: Target) -> None:
    """SHA-1 of stream id plus secret is acknowledged with an empty <handshake/>."""
    async with component(target) as client:
        assert not client.closed


@spec("XEP-0114", "3", category="Core Server")
async def test_wrong_secret_not_authorized(target: Target) -> None:
    """A handshake with the wrong secret ends in a <not-authorized/> stream error."""
    client = WireClient(plain_target(target), "component")
    try:
        stream_id = await open_accept_stream(client, component_name(target))
        await client.send(f"<handshake>{digest(stream_id, unique('wrong'))}</handshake>")
        assert await client.expect_stream_error() == "not-authorized"
    finally:
        await client.close()


@spec("XEP-0114", "3", category="Core Server")
async def test_message_to_component(target: Target, accounts: list[Account]) -> None:
    """After the handshake the server routes a client's message to the component's domain to it."""
    async with component(target) as comp, logged_in(target, accounts[0]) as alice:
        text = unique("to component")
        await alice.send(f"<message to='echo@{component_name(target)}' type='chat'><body>{text}</body></message>")

        def routed(el: ET.Element) -> bool:
            return el.tag == COMPONENT_MESSAGE and el.findtext(ns.q(ns.COMPONENT, "body")) == text

        message = await comp.expect(routed)
        assert message.get("from") == alice.jid, describe(message)


@spec("XEP-0114", "3", category="Core Server")
async def test_message_from_component(target: Target, accounts: list[Account]) -> None:
    """The component's messages from its own domain reach a client of the server."""
    async with component(target) as comp, logged_in(target, accounts[0]) as alice:
        text = unique("from component")
        sender = f"echo@{component_name(target)}"
        await comp.send(f"<message from='{sender}' to='{alice.jid}' type='chat'><body>{text}</body></message>")
        message = await alice.expect(body_is(text))
        assert message.get("from") == sender, describe(message)
