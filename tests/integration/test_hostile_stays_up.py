"""Hostile XML against a server in its own process while a bystander pings it every 100 ms.

Each case opens one attacking connection, before or after authentication, sends one hostile payload
and expects the stream error RFC 6120 §4.9.3 names for it. The bystander's p99 must stay under
100 ms over the whole module, the server's RSS under ``RSS_BOUND_KIB`` and its log free of tracebacks.
One server serves the whole module (module-scoped event loop and fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.stays_up import Bystander, ServerProcess, bystander, logged_in_raw, server_process
from tests.xmpp_harness import RawClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONFIG = """
[limits]
max_stanza_size = "32KiB"
pre_auth_timeout = "3s"
max_sessions_per_user = 100
"""
PRE_AUTH_TIMEOUT = 3.0
RSS_BOUND_KIB = 150 * 1024
HEADER_START = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
HEADER = HEADER_START + b" to='localhost' version='1.0'>"
LAUGHS = (
    b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
    + b"".join(f"<!ENTITY lol{i} '{f'&lol{i - 1};' * 10}'>".encode() for i in range(1, 10)).replace(b"&lol0;", b"&lol;")
    + b"]><lolz>&lol9;</lolz>"
)
MANY_NAMESPACES = b"<message " + b" ".join(f"xmlns:p{i}='urn:p{i}'".encode() for i in range(60)) + b"/>"
MANY_ATTRIBUTES = b"<message " + b" ".join(f"a{i}='v'".encode() for i in range(51)) + b"/>"
TOO_BIG = b'<stanza-too-big xmlns="urn:xmpp:errors"/>'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServerProcess]:
    async with server_process(tmp_path_factory.mktemp("hostile"), extra=CONFIG) as handle:
        yield handle


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def watcher(server: ServerProcess) -> AsyncIterator[Bystander]:
    async with bystander(server.plain_port) as pinging:
        yield pinging


async def attacker(port: int, authenticated: bool, resource: str) -> RawClient:
    if authenticated:
        return await logged_in_raw(port, "alice", "secret", resource=resource)
    return await RawClient.connect(port)


async def read_error(raw: RawClient) -> bytes:
    try:
        return await raw.read_to_close(timeout=10.0)
    finally:
        raw.close()


PRE_AUTH_CASES = [
    ("unfinished_stream_header", b"", HEADER_START + b" to='" + b"a" * 5000, "policy-violation"),
    ("long_header_element_name", b"", b"<" + b"s" * 5000, "policy-violation"),
    ("invalid_utf8_in_header", b"", HEADER_START + b" to='\xff\xfe'>", "not-well-formed"),
    ("doctype_before_stream", b"", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>", "restricted-xml"),
    ("billion_laughs", b"", LAUGHS, "restricted-xml"),
    ("unfinished_start_tag_pre_auth", HEADER, b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='"
     + b"a" * 17000, "policy-violation"),
    ("huge_stanza_pre_auth", HEADER, b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
     + b"A" * 17000 + b"</auth>", "policy-violation"),
    ("comment_pre_auth", HEADER, b"<!-- hello -->", "restricted-xml"),
]

POST_AUTH_CASES = [
    ("unfinished_start_tag", b"<message to='" + b"a" * 20000, "policy-violation"),
    ("unfinished_attribute_value", b"<message><body xml:lang='" + b"a" * 20000, "policy-violation"),
    ("unfinished_entity_reference", b"<message><body>&" + b"a" * 20000, "policy-violation"),
    ("huge_text_node", b"<message to='bob@localhost'><body>" + b"a" * 40000, "policy-violation"),
    ("huge_stanza", b"<message to='bob@localhost'><body>" + b"a" * 40000 + b"</body></message>",
     "policy-violation"),
    ("deep_nesting", b"<message>" + b"<a>" * 200, "policy-violation"),
    ("many_elements", b"<message>" + b"<x/>" * 1001 + b"</message>", "policy-violation"),
    ("many_attributes", MANY_ATTRIBUTES, "policy-violation"),
    ("many_namespace_declarations", MANY_NAMESPACES, "policy-violation"),
    ("long_element_name", b"<" + b"m" * 2000 + b"/>", "policy-violation"),
    ("unfinished_long_element_name", b"<" + b"m" * 20000, "policy-violation"),
    ("doctype_in_stream", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", "restricted-xml"),
    ("comment", b"<!-- a comment -->", "restricted-xml"),
    ("processing_instruction", b"<?pi x?>", "restricted-xml"),
    ("invalid_utf8", b"<message><body>\xff\xfe</body></message>", "not-well-formed"),
    ("undefined_entity", b"<message><body>&foo;</body></message>", "not-well-formed"),
]


@pytest.mark.parametrize(
    ("opening", "payload", "condition"),
    [case[1:] for case in PRE_AUTH_CASES],
    ids=[case[0] for case in PRE_AUTH_CASES],
)
async def test_hostile_xml_before_authentication(
    server: ServerProcess, watcher: Bystander, opening: bytes, payload: bytes, condition: str
) -> None:
    raw = await attacker(server.plain_port, authenticated=False, resource="")
    if opening:
        await raw.send(opening)
        await raw.read_until(b"</stream:features>")
    await raw.send(payload)
    data = await read_error(raw)
    assert f"<{condition} ".encode() in data, data[-300:]
    assert data.rstrip().endswith(b"</stream:stream>")
    assert not watcher.failures


@pytest.mark.parametrize(
    ("payload", "condition"),
    [case[1:] for case in POST_AUTH_CASES],
    ids=[case[0] for case in POST_AUTH_CASES],
)
async def test_hostile_xml_after_authentication(
    server: ServerProcess, watcher: Bystander, payload: bytes, condition: str, request: pytest.FixtureRequest
) -> None:
    raw = await attacker(server.plain_port, authenticated=True, resource=request.node.callspec.id)
    await raw.send(payload)
    data = await read_error(raw)
    assert f"<{condition} ".encode() in data, data[-300:]
    if b"too big" in data:
        assert TOO_BIG in data
    assert not watcher.failures


@pytest.mark.parametrize("authenticated", [False, True], ids=["pre_auth", "post_auth"])
async def test_issue12_defect2_an_endless_unfinished_tag_is_cut_early(
    server: ServerProcess, watcher: Bystander, authenticated: bool
) -> None:
    """16 MiB of ``a`` inside an unfinished tag: the server hangs up long before taking it all."""
    raw = await attacker(server.plain_port, authenticated, resource="flood")
    if not authenticated:
        await raw.send(HEADER_START + b" to='")
    else:
        await raw.send(b"<message to='")
    sent, total, chunk = 0, 16 * 1024 * 1024, b"a" * 65536
    with contextlib.suppress(ConnectionError, OSError):
        while sent < total and not raw.reader.at_eof():
            await raw.send(chunk)
            sent += len(chunk)
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        await read_error(raw)
    raw.close()
    assert sent < total
    assert not watcher.failures


async def test_a_half_sent_tag_then_silence_is_closed_by_the_pre_auth_timer(
    server: ServerProcess, watcher: Bystander
) -> None:
    raw = await RawClient.connect(server.plain_port)
    await raw.send(HEADER_START + b" to='local")
    started = time.monotonic()
    data = await read_error(raw)
    assert b"<connection-timeout " in data
    assert time.monotonic() - started < PRE_AUTH_TIMEOUT + 2.0
    assert not watcher.failures


async def test_the_bystander_memory_and_log_over_all_cases(server: ServerProcess, watcher: Bystander) -> None:
    deadline = time.monotonic() + 5.0
    while len(watcher.round_trips) < 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not watcher.failures
    assert len(watcher.round_trips) >= 20
    assert watcher.p99_ms() < 100.0, sorted(watcher.round_trips)[-5:]
    assert server.rss_kib() < RSS_BOUND_KIB
    assert server.tracebacks() == 0, server.log_text()[-3000:]

