"""Raw SASL login attempts for throttle tests: one attempt, its outcome, on a fresh or reused stream."""

from __future__ import annotations

import asyncio
import base64

from tests.xmpp_harness import TIMEOUT, RawClient

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


def plain_auth(user: str, password: str) -> str:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return f"<auth xmlns='{SASL}' mechanism='PLAIN'>{token}</auth>"


async def attempt(raw: RawClient, user: str, password: str, timeout: float = TIMEOUT) -> str:
    """Send one PLAIN attempt; return "success" or the failure condition (with its text after a space)."""
    raw.received = b""
    await raw.send(plain_auth(user, password))

    async def outcome() -> str:
        while True:
            if b"<success" in raw.received:
                return "success"
            end = raw.received.find(b"</failure>")
            if end >= 0:
                text = raw.received[:end].decode(errors="replace")
                condition = text.split("<failure", 1)[1].split("<", 2)[1].split("/", 1)[0].split(">", 1)[0].strip()
                said = text.split("<text", 1)[1].split(">", 1)[1].split("<", 1)[0] if "<text" in text else ""
                return f"{condition} {said}".strip()
            chunk = await raw.reader.read(65536)
            if not chunk:
                raise ConnectionError(f"closed during a login attempt; got {raw.received[-300:]!r}")
            raw.received += chunk

    return await asyncio.wait_for(outcome(), timeout)


async def fresh_attempt(port: int, user: str, password: str) -> str:
    """One attempt on a new stream, closed afterwards."""
    raw = await RawClient.connect(port)
    try:
        await raw.open_stream()
        return await attempt(raw, user, password)
    finally:
        raw.close()
