"""Resource binding applies PRECIS OpaqueString (RFC 7622 §3.4; issue 12, defect 7): disallowed code
points get <bad-request/> (RFC 6120 §7.7.2.1), allowed ones are bound NFC-normalised."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.login_attempts import SASL
from tests.xmpp_harness import RawClient, running_server


async def bind(port: int, resource: str) -> str:
    raw = await RawClient.connect(port)
    try:
        await raw.open_stream()
        token = base64.b64encode(b"\0alice\0secret").decode()
        await raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{token}</auth>")
        await raw.read_until(b"<success")
        raw.received = b""
        await raw.open_stream()
        raw.received = b""
        await raw.send(
            "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            f"<resource>{resource}</resource></bind></iq>"
        )
        return (await raw.read_until(b"</iq>")).decode()
    finally:
        raw.close()


@pytest.mark.parametrize(
    "resource",
    ["phone\u200b", "del\x7f", "nel\u0085", "bom\ufeff", "&#x200B;"],
    ids=["zero-width-space", "delete", "next-line", "byte-order-mark", "escaped-zwsp"],
)
async def test_bind_refuses_a_resource_precis_disallows(tmp_path: Path, resource: str) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        reply = await bind(handle.plain_port, resource)
        assert 'type="error"' in reply and "<bad-request" in reply and "invalid resourcepart" in reply
        assert handle.server.sessions.count == 0


async def test_bind_normalises_a_resource_to_nfc(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        reply = await bind(handle.plain_port, "cafe\u0301 ♥")
        assert 'type="result"' in reply and "<jid>alice@localhost/caf\u00e9 ♥</jid>" in reply
