"""A minimal, recorded RFC 6455 WebSocket client over asyncio streams (text frames, close, ping/pong).

Only what RFC 7395 cases need: one opening handshake, masked client frames, unfragmented or fragmented
text messages from the server, and the closing handshake.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import struct
from urllib.parse import urlsplit

from tigase_py.compat_tests import transcript
from tigase_py.compat_tests.client import tls_context
from tigase_py.compat_tests.target import Target

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0
TIMEOUT = 10.0


class HandshakeFailed(Exception):
    """The server did not switch protocols (status other than 101, or a bad accept key)."""


class WebSocketClient:
    def __init__(self, target: Target, url: str, who: str = "websocket") -> None:
        self.target = target
        self.url = urlsplit(url)
        self.who = who
        self.protocol: str | None = None  # the Sec-WebSocket-Protocol the server chose
        self.status: int | None = None
        self.close_code: int | None = None  # set when a close frame arrived
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self, protocol: str = "xmpp") -> None:
        """TCP (and TLS for wss) plus the opening handshake; HandshakeFailed unless 101 with a valid accept."""
        secure = self.url.scheme == "wss"
        port = self.url.port or (443 if secure else 80)
        host = self.url.hostname or self.target.host
        context = tls_context(self.target) if secure else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host if context else None), TIMEOUT
        )
        self._reader, self._writer = reader, writer
        key = base64.b64encode(os.urandom(16)).decode()
        path = self.url.path or "/"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        )
        transcript.current().add("sent", self.who, request)
        writer.write(request.encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        text = head.decode("latin-1")
        transcript.current().add("received", self.who, text)
        lines = text.split("\r\n")
        self.status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if self.status != 101:
            raise HandshakeFailed(f"HTTP {self.status}")
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeFailed(f"bad Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}")
        self.protocol = headers.get("sec-websocket-protocol")

    async def send_frame(self, opcode: int, payload: bytes) -> None:
        assert self._writer is not None
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._writer.write(header + mask + masked)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def send_text(self, text: str) -> None:
        transcript.current().add("sent", self.who, text)
        await self.send_frame(TEXT, text.encode())

    async def _read_frame(self) -> tuple[bool, int, bytes]:
        assert self._reader is not None
        first, second = await self._reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._reader.readexactly(8))
        mask = await self._reader.readexactly(4) if second & 0x80 else b""
        payload = await self._reader.readexactly(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    async def receive(self, timeout: float = TIMEOUT) -> str | None:
        """The next text message (fragments joined); None when the server sent a close frame or hung up."""
        parts: list[bytes] = []
        while True:
            try:
                fin, opcode, payload = await asyncio.wait_for(self._read_frame(), timeout)
            except (asyncio.IncompleteReadError, ConnectionError):
                transcript.current().note(self.who, "connection closed by peer")
                return None
            if opcode == PING:
                await self.send_frame(PONG, payload)
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                transcript.current().note(self.who, f"close frame {self.close_code}")
                return None
            parts.append(payload)
            if fin:
                text = b"".join(parts).decode("utf-8", "replace")
                transcript.current().add("received", self.who, text)
                return text

    async def close(self) -> None:
        if self._writer is None:
            return
        with contextlib.suppress(Exception):
            self._writer.close()
        self._writer = None
