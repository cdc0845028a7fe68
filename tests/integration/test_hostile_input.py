"""Hostile and malformed input gets the right stream error, and other sessions keep working."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.stays_up import logged_in_raw
from tests.xmpp_harness import Client, RawClient, login, running_server

EXTRA = "[modules]\nenabled = []\n[limits]\nmax_stanza_size = \"16KiB\"\n"


async def assert_still_serving(client: Client) -> None:
    client.send_message(mto=client.boundjid.full, mbody="still here")
    message = await client.next_message()
    assert message["body"] == "still here"


async def expect_stream_error(raw: RawClient, condition: str) -> bytes:
    data = await raw.read_to_close()
    assert b"<stream:error>" in data, data[-300:]
    assert f"<{condition} ".encode() in data, data[-300:]
    assert data.rstrip().endswith(b"</stream:stream>")
    return data


@pytest.fixture
async def server_with_witness(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_server(tmp_path, extra=EXTRA) as handle:
        await handle.add_user("mallory@localhost")
        await handle.add_user("witness@localhost")
        witness = await login(handle, "witness@localhost")
        yield handle, witness


@pytest.mark.parametrize(
    ("payload", "condition"),
    [
        (b"<'/>", "not-well-formed"),
        (b"<message><body>\xff\xfe</body></message>", "not-well-formed"),
        (b"<message><body>&foo;</body></message>", "not-well-formed"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]>", "restricted-xml"),
        (b"<!-- a comment -->", "restricted-xml"),
        (b"<?pi x?>", "restricted-xml"),
        (b"<a>" * 200, "policy-violation"),
        (b"<message from='witness@localhost/x' to='witness@localhost'><body>spoof</body></message>", "invalid-from"),
        (b"<foo xmlns='jabber:client'/>", "unsupported-stanza-type"),
    ],
)
async def test_bad_input_after_login(server_with_witness, payload: bytes, condition: str) -> None:  # type: ignore[no-untyped-def]
    handle, witness = server_with_witness
    raw = await logged_in_raw(handle.plain_port, "mallory")
    await raw.send(payload)
    await expect_stream_error(raw, condition)
    await assert_still_serving(witness)


async def test_oversize_stanza_is_a_policy_violation_and_a_stanza_at_the_limit_passes(server_with_witness) -> None:  # type: ignore[no-untyped-def]
    handle, witness = server_with_witness
    raw = await logged_in_raw(handle.plain_port, "mallory")
    filler = "a" * (16 * 1024 - 200)
    await raw.send(f"<message to='{witness.boundjid.full}' type='chat'><body>{filler}</body></message>")
    message = await witness.next_message()
    assert message["body"] == filler
    await raw.send(f"<message to='{witness.boundjid.full}'><body>{'b' * 17000}</body></message>")
    data = await expect_stream_error(raw, "policy-violation")
    assert b"<stanza-too-big xmlns=\"urn:xmpp:errors\"/>" in data
    await assert_still_serving(witness)


@pytest.mark.parametrize(
    ("header", "condition"),
    [
        ("<stream:stream to='nowhere.example' xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", "host-unknown"),
        ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
         "improper-addressing"),
        ("<stream:stream to='localhost' xmlns='jabber:server' "
         "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", "invalid-namespace"),
        ("<stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='urn:wrong' version='1.0'>",
         "invalid-namespace"),
    ],
)
async def test_bad_stream_headers(server_with_witness, header: str, condition: str) -> None:  # type: ignore[no-untyped-def]
    handle, witness = server_with_witness
    raw = await RawClient.connect(handle.plain_port)
    await raw.send(header)
    data = await expect_stream_error(raw, condition)
    assert data.startswith(b"<?xml version='1.0'?><stream:stream")
    await assert_still_serving(witness)


async def test_stanzas_before_authentication_are_refused(server_with_witness) -> None:  # type: ignore[no-untyped-def]
    handle, witness = server_with_witness
    raw = await RawClient.connect(handle.plain_port)
    await raw.open_stream()
    await raw.send(f"<message to='{witness.boundjid.full}'><body>unauthenticated</body></message>")
    await expect_stream_error(raw, "not-authorized")
    await assert_still_serving(witness)


async def test_plain_authzid_for_another_user_is_refused(server_with_witness) -> None:  # type: ignore[no-untyped-def]
    handle, _witness = server_with_witness
    raw = await RawClient.connect(handle.plain_port)
    await raw.open_stream()
    token = base64.b64encode(b"witness@localhost\0mallory\0secret").decode()
    await raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    data = await raw.read_until(b"</failure>")
    assert b"<invalid-authzid/>" in data


async def test_wrong_password_over_raw_plain_is_not_authorized(server_with_witness) -> None:  # type: ignore[no-untyped-def]
    handle, _witness = server_with_witness
    raw = await RawClient.connect(handle.plain_port)
    await raw.open_stream()
    token = base64.b64encode(b"\0mallory\0wrong").decode()
    await raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    data = await raw.read_until(b"</failure>")
    assert b"<not-authorized/>" in data and b"mallory" not in data.split(b"<failure")[1]
