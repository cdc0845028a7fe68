"""RFC 6120 sections 4, 5 and 7: stream headers, features, STARTTLS, binding and stream errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, not_supported, require_stream_feature, spec
from tigase_py.compat_tests.client import StreamClosed, WireClient, connected, logged_in, next_id, secured
from tigase_py.compat_tests.target import Account, Target

XML_LANG = ns.q(ns.XML, "lang")
UNKNOWN = "<x xmlns='urn:compat:none'/>"
STARTTLS = ns.q(ns.TLS, "starttls")
# RFC 6120 4.9.3.1: <bad-format/> may stand in for the more specific XML errors.
XML_ERRORS = {"not-well-formed", "bad-format", "invalid-xml", "restricted-xml"}


async def closed_with(client: WireClient, allowed: set[str], timeout: float = 10.0) -> str:
    """Wait until the server closes the stream; return its error condition (or "none")."""
    closed = await client.wait_closed(timeout)
    condition = client.stream_error()
    assert closed, f"the stream stayed open (stream error so far: {condition})"
    assert condition is None or condition in allowed, f"stream error <{condition}/>, expected one of {sorted(allowed)}"
    return condition or "none"


@contextlib.asynccontextmanager
async def starttls_offered(target: Target) -> AsyncIterator[WireClient]:
    """A client on a first stream that offers STARTTLS; NotSupported if the target is not reached over STARTTLS."""
    if target.tls != "starttls":
        raise not_supported(f"the target is reached with tls={target.tls}, not STARTTLS")
    async with connected(target) as client:
        await client.open_stream()
        require_stream_feature(client, STARTTLS)
        yield client


async def closed_after_bytes(target: Target, data: bytes) -> str:
    """Open a stream, send ``data`` raw, and wait for the server to close it with an XML error (or none)."""
    async with connected(target) as client:
        await client.open_stream()
        await client.send_bytes(data)
        return await closed_with(client, XML_ERRORS)


@spec("RFC6120", "4.7.3", category="Core Server")
async def test_response_header_has_id(target: Target) -> None:
    """The receiving entity MUST include a non-empty 'id' in its response stream header."""
    async with connected(target) as client:
        await client.open_stream()
        assert client.header is not None and client.header.get("id"), f"no id: {client.header}"


@spec("RFC6120", "4.7.1", category="Core Server")
async def test_response_header_from_is_domain(target: Target) -> None:
    """The response header's 'from' MUST be the domain the initiating entity put in 'to'."""
    async with connected(target) as client:
        await client.open_stream()
        assert client.header is not None
        assert client.header.get("from") == target.domain, f"from={client.header.get('from')!r}"


@spec("RFC6120", "4.7.5", category="Core Server")
async def test_response_header_version(target: Target) -> None:
    """Both sides speak 1.0, so the response header MUST carry version='1.0'."""
    async with connected(target) as client:
        await client.open_stream()
        assert client.header is not None and client.header.get("version") == "1.0", client.header


@spec("RFC6120", "4.8.2", category="Core Server")
async def test_response_header_namespaces(target: Target) -> None:
    """The stream element is qualified by the streams namespace; the content namespace is jabber:client."""
    async with connected(target) as client:
        features = await client.open_stream()
        assert client.header is not None and client.header.tag == ns.q(ns.STREAMS, "stream"), client.header
        default = client.header.namespaces.get("")
        assert default in (None, ns.CLIENT), f"default namespace {default!r}"
        assert features.tag == ns.q(ns.STREAMS, "features")


@spec("RFC6120", "4.7.4", category="Core Server")
async def test_response_header_lang(target: Target) -> None:
    """The response header carries an xml:lang (the initiating entity sent one)."""
    async with connected(target) as client:
        await client.open_stream()
        header = client.header
        assert header is not None and header.get(XML_LANG), header.attrib if header is not None else None


@spec("RFC6120", "4.7.3", category="Core Server")
async def test_stream_ids_differ(target: Target) -> None:
    """Stream ids are unique per stream: two connections get two different ids."""
    async with connected(target, "first") as first, connected(target, "second") as second:
        await first.open_stream()
        await second.open_stream()
        assert first.header is not None and second.header is not None
        assert first.header.get("id") != second.header.get("id")


@spec("RFC6120", "5.3.1", category="Core Server")
async def test_starttls_offered(target: Target) -> None:
    """A server reached over STARTTLS advertises the STARTTLS feature on the first stream."""
    async with starttls_offered(target):
        pass


@spec("RFC6120", "5.4.3.3", category="Core Server")
async def test_no_starttls_after_tls(target: Target) -> None:
    """After TLS, the new stream's features MUST NOT offer STARTTLS again."""
    if target.tls == "plain":
        raise not_supported("the target is reached without TLS")
    async with secured(target) as client:
        assert client.features is not None and client.features.find(STARTTLS) is None, describe(client.features)


@spec("RFC6120", "5.4.3.3", category="Core Server")
async def test_new_header_after_tls(target: Target) -> None:
    """After TLS the server sends a new response header with an id and new stream features."""
    async with starttls_offered(target) as client:
        features = await client.starttls()
        assert client.header is not None and client.header.get("id"), client.header
        assert features.tag == ns.q(ns.STREAMS, "features")


@spec("RFC6120", "6.4.6", category="Core Server")
async def test_no_sasl_after_auth(target: Target, accounts: list[Account]) -> None:
    """After SASL success the new stream's features MUST NOT offer SASL again."""
    async with secured(target, accounts[0].local, accounts[0]) as client:
        assert client.features is not None
        assert client.features.find(ns.q(ns.SASL, "mechanisms")) is None, describe(client.features)


@spec("RFC6120", "7.4", category="Core Server")
async def test_bind_offered_after_auth(target: Target, accounts: list[Account]) -> None:
    """After SASL the server MUST advertise resource binding."""
    async with secured(target, accounts[0].local, accounts[0]) as client:
        assert client.has_feature(ns.q(ns.BIND, "bind")), describe(client.features)


@spec("RFC6120", "7.6.1", category="Core Server")
async def test_bind_server_generated_resource(target: Target, accounts: list[Account]) -> None:
    """Binding without a resource gets a full JID with a server-generated resource."""
    async with secured(target, accounts[0].local, accounts[0]) as client:
        jid = await client.bind()
        bare, _, resource = jid.partition("/")
        assert resource, f"bound JID {jid!r} has no resource"
        assert bare.lower() == accounts[0].jid.lower(), f"bound {jid!r} for {accounts[0].jid}"


@spec("RFC6120", "7.7.2", category="Core Server")
async def test_bind_client_resource(target: Target, accounts: list[Account]) -> None:
    """Binding a resource gets a full JID of the account (the server MAY change the resource)."""
    async with secured(target, accounts[0].local, accounts[0]) as client:
        jid = await client.bind("compat-bind")
        bare, _, resource = jid.partition("/")
        assert resource and bare.lower() == accounts[0].jid.lower(), jid


@spec("RFC6120", "4.4", category="Core Server")
async def test_close_handshake(target: Target) -> None:
    """When the client closes its stream, the server closes its side too."""
    async with connected(target) as client:
        await client.open_stream()
        await client.send("</stream:stream>")
        assert await client.wait_closed(10.0), "the server did not close its stream"


@spec("RFC6120", "4.9.3.6", category="Core Server")
async def test_host_unknown(target: Target) -> None:
    """A 'to' naming a domain the server does not serve gets <host-unknown/>."""
    async with connected(target) as client:
        await client.send(client.header_xml(to="no-such-host.invalid"))
        condition = await client.expect_stream_error()
        assert condition in ("host-unknown", "host-gone"), f"stream error <{condition}/>"


@spec("RFC6120", "4.9.3.13", category="Core Server")
async def test_not_well_formed(target: Target) -> None:
    """Bytes that are not well-formed XML end the stream (with <not-well-formed/> or a kin error)."""
    await closed_after_bytes(target, b"<'/>")


@spec("RFC6120", "11.1", category="Core Server")
async def test_comment_restricted(target: Target) -> None:
    """An XML comment is restricted XML: the server closes the stream (restricted-xml or kin)."""
    await closed_after_bytes(target, b"<!-- a comment -->")


@spec("RFC6120", "11.1", category="Core Server")
async def test_doctype_restricted(target: Target) -> None:
    """A DOCTYPE inside the stream is restricted (and not well-formed): the stream is closed."""
    await closed_after_bytes(target, b"<!DOCTYPE foo [<!ENTITY x 'y'>]>")


@spec("RFC6120", "4.9.3.10", category="Core Server")
async def test_invalid_namespace(target: Target) -> None:
    """A stream header in the wrong streams namespace gets <invalid-namespace/> (or <bad-format/>)."""
    async with connected(target) as client:
        header = client.header_xml().replace(ns.STREAMS, "http://example.com/not-streams")
        await client.send(header)
        await closed_with(client, {"invalid-namespace", "bad-format", "bad-namespace-prefix"})


@spec("RFC6120", "4.7.5", category="Core Server")
async def test_higher_version(target: Target) -> None:
    """A client offering version 2.0 gets version 1.0 back, or <unsupported-version/>."""
    async with connected(target) as client:
        await client.send(client.header_xml(version="2.0"))
        try:
            await client.expect(ns.q(ns.STREAMS, "features"))
        except (TimeoutError, StreamClosed):
            condition = client.stream_error()
            assert condition == "unsupported-version", f"stream error <{condition}/>"
            return
        assert client.header is not None and client.header.get("version") == "1.0", client.header


@spec("RFC6120", "6.4", category="Core Server")
async def test_no_stanzas_before_auth(target: Target) -> None:
    """A stanza sent before authentication is not processed (no result comes back)."""
    async with connected(target) as client:
        await client.open_stream()
        stanza_id = next_id("early")
        await client.send(f"<iq type='get' id='{stanza_id}' to='{target.domain}'><ping xmlns='{ns.PING}'/></iq>")
        try:
            reply = await client.expect(lambda el: el.get("id") == stanza_id, 3.0)
        except (TimeoutError, StreamClosed):
            return  # silence, a stream error or a closed stream are all allowed
        assert reply.get("type") == "error", f"processed before authentication: {describe(reply)}"


@spec("RFC6120", "8.3.3.19", category="Core Server")
async def test_iq_to_missing_user(target: Target, accounts: list[Account]) -> None:
    """An IQ to a non-existent local user's bare JID gets <service-unavailable/> (RFC 6121 8.5.1)."""
    async with logged_in(target, accounts[0]) as client:
        query = f"<query xmlns='{ns.VERSION}'/>"
        to = f"nobody-{next_id('x')}@{target.domain}"
        reply = await client.iq(f"<iq type='get' id='{next_id()}' to='{to}'>{query}</iq>")
        assert reply.get("type") == "error", describe(reply)
        assert describe(reply).endswith("(error: service-unavailable)"), describe(reply)


@spec("RFC6120", "8.4", category="Core Server")
async def test_iq_unknown_namespace(target: Target, accounts: list[Account]) -> None:
    """An IQ get in a namespace the server does not know gets an error with the request's id."""
    async with logged_in(target, accounts[0]) as client:
        stanza_id = next_id()
        reply = await client.iq(f"<iq type='get' id='{stanza_id}' to='{target.domain}'>{UNKNOWN}</iq>")
        assert reply.get("type") == "error" and reply.get("id") == stanza_id, describe(reply)
        condition = describe(reply)
        assert condition.endswith(("(error: service-unavailable)", "(error: feature-not-implemented)")), condition


@spec("RFC6120", "8.3.2", category="Core Server")
async def test_error_element_shape(target: Target, accounts: list[Account]) -> None:
    """An error stanza's <error/> has a 'type' and a defined condition in the stanzas namespace."""
    async with logged_in(target, accounts[0]) as client:
        reply = await client.iq(f"<iq type='get' id='{next_id()}' to='{target.domain}'>{UNKNOWN}</iq>")
        error = reply.find(ns.q(ns.CLIENT, "error"))
        assert error is not None, describe(reply)
        assert error.get("type") in ("auth", "cancel", "continue", "modify", "wait"), describe(reply)
        assert any(child.tag.startswith(f"{{{ns.STANZA_ERRORS}}}") for child in error), describe(reply)


@spec("RFC6120", "8.2.3", category="Core Server")
async def test_iq_bad_type(target: Target, accounts: list[Account]) -> None:
    """An IQ with an undefined type is never answered with a result (bad-request or a stream error)."""
    async with logged_in(target, accounts[0]) as client:
        stanza_id = next_id()
        await client.send(f"<iq type='bogus' id='{stanza_id}' to='{target.domain}'><ping xmlns='{ns.PING}'/></iq>")
        try:
            reply = await client.expect(lambda el: el.get("id") == stanza_id, 5.0)
        except (TimeoutError, StreamClosed):
            return
        assert reply.get("type") == "error", describe(reply)


@spec("RFC6120", "8.1.2.1", category="Core Server")
async def test_spoofed_from_not_delivered(target: Target, accounts: list[Account]) -> None:
    """A stanza with a 'from' the sender may not use is never delivered with that 'from'."""
    if len(accounts) < 3:
        raise not_supported("needs three accounts")
    alice, bob, carol = accounts[:3]
    async with logged_in(target, alice) as sender, logged_in(target, bob) as receiver:
        await receiver.send("<presence/>")
        await asyncio.sleep(0.3)
        await sender.send(f"<message to='{bob.jid}' from='{carol.jid}/spoof' type='chat'><body>hi</body></message>")
        try:
            message = await receiver.expect(lambda el: el.tag == ns.q(ns.CLIENT, "message"), 3.0)
        except (TimeoutError, StreamClosed):
            return  # refused: invalid-from stream error, stanza error or dropped
        sender_bare = (message.get("from") or "").partition("/")[0].lower()
        assert sender_bare == alice.jid.lower(), f"delivered with from={message.get('from')!r}"
