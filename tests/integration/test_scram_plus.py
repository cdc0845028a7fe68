"""SCRAM-SHA-256-PLUS with tls-server-end-point channel binding, driven by scramp's client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from pathlib import Path

import pytest
import scramp

from tests.xmpp_harness import RawClient, insecure_context, running_server


async def plus_exchange(port: int, binding: bytes, mechanism: str = "SCRAM-SHA-256-PLUS") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=insecure_context())
    raw = RawClient(reader, writer)
    await raw.open_stream()
    assert f"<mechanism>{mechanism}</mechanism>".encode() in raw.received
    client = scramp.ScramClient([mechanism], "alice", "secret", channel_binding=("tls-server-end-point", binding))
    first = base64.b64encode(client.get_client_first().encode()).decode()
    await raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>{first}</auth>")
    data = await raw.read_until(b"</challenge>")
    challenge = re.search(rb"<challenge[^>]*>([^<]+)</challenge>", data)
    assert challenge is not None
    client.set_server_first(base64.b64decode(challenge.group(1)).decode())
    final = base64.b64encode(client.get_client_final().encode()).decode()
    raw.received = b""
    await raw.send(f"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{final}</response>")
    closing = b"</success>" if b"<success" in await raw.read_until(b">") else b"</failure>"
    reply = await raw.read_until(closing)
    raw.close()
    return reply


def endpoint_hash(certificate_pem: str) -> bytes:
    der = base64.b64decode("".join(line for line in certificate_pem.splitlines() if "-----" not in line))
    return hashlib.sha256(der).digest()  # the default certificate is ECDSA with SHA-256


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"])
async def test_plus_with_the_right_binding_succeeds(tmp_path: Path, mechanism: str) -> None:
    async with running_server(tmp_path, extra="[modules]\nenabled = []\n") as handle:
        await handle.add_user("alice@localhost")
        pem = (tmp_path / "certs" / "localhost.crt").read_text()
        reply = await plus_exchange(handle.direct_port, endpoint_hash(pem), mechanism)
        assert b"<success" in reply


async def test_plus_with_a_foreign_binding_fails(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra="[modules]\nenabled = []\n") as handle:
        await handle.add_user("alice@localhost")
        reply = await plus_exchange(handle.direct_port, hashlib.sha256(b"another certificate").digest())
        assert b"<not-authorized/>" in reply
