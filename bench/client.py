"""A minimal, fast XMPP client for load generation: raw asyncio streams + ssl, no XML trees.

Login is the sequence the defaults ship: stream open, STARTTLS (``StreamWriter.start_tls``), SASL
SCRAM (``bench/scram.py``, salted password cached as real clients do), stream restart, resource
bind. After that the client only sends pre-rendered ``<message/>`` stanzas and scans received bytes
for ``<body>…</body>`` with ``bytes.find``.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from array import array
from collections.abc import Callable

from bench.scram import ScramClient

STREAM_OPEN = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
FAILURE_MARKERS = (b"<failure", b"<stream:error", b"</stream:stream>", b"type='error'", b'type="error"')
READ_SIZE = 1 << 18
RATE_TICK = 0.005  # open-loop senders wake this often


class LoginError(Exception):
    """The server refused or broke off the login sequence."""


def insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _between(data: bytes, start: bytes, end: bytes) -> bytes:
    """The text between the first ``start`` tag opening (through its ``>``) and ``end``."""
    i = data.find(start)
    if i < 0:
        return b""
    i = data.find(b">", i) + 1
    if data[i - 2 : i] == b"/>":
        return b""
    j = data.find(end, i)
    return data[i:j] if j >= 0 else b""


class XmppClient:
    """One bound c2s session."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, domain: str) -> None:
        self.reader = reader
        self.writer = writer
        self.domain = domain
        self.buffer = b""
        self.jid = ""

    # -- login --------------------------------------------------------------------------------------
    @classmethod
    async def login(
        cls,
        host: str,
        port: int,
        domain: str,
        username: str,
        password: str,
        resource: str,
        context: ssl.SSLContext,
        mechanism: str = "SCRAM-SHA-256",
    ) -> XmppClient:
        reader, writer = await asyncio.open_connection(host, port, limit=READ_SIZE)
        client = cls(reader, writer, domain)
        try:
            await client._negotiate(username, password, resource, context, mechanism)
        except BaseException:
            client.abort()
            raise
        return client

    async def _until(self, marker: bytes, *alternatives: bytes) -> bytes:
        """Read until ``marker`` (or an alternative) is buffered; return up to it, keep the rest."""
        markers = (marker, *alternatives)
        while True:
            for m in markers:
                i = self.buffer.find(m)
                if i >= 0:
                    end = i + len(m)
                    head, self.buffer = self.buffer[:end], self.buffer[end:]
                    return head
            if any(f in self.buffer for f in FAILURE_MARKERS):
                raise LoginError(self.buffer[:500].decode(errors="replace"))
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise LoginError(f"connection closed; buffered: {self.buffer[:500]!r}")
            self.buffer += data

    def _open_stream(self) -> None:
        self.writer.write(STREAM_OPEN.format(domain=self.domain).encode())

    async def _negotiate(
        self, username: str, password: str, resource: str, context: ssl.SSLContext, mechanism: str
    ) -> None:
        self._open_stream()
        features = await self._until(b"</stream:features>")
        if b"<starttls" not in features:
            raise LoginError("no STARTTLS offered")
        self.writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await self._until(b"<proceed", b"<proceed ")
        self.buffer = b""
        await self.writer.start_tls(context, server_hostname=self.domain)
        self._open_stream()
        features = await self._until(b"</stream:features>")
        if mechanism.encode() not in features:
            raise LoginError(f"{mechanism} not offered: {features[-400:]!r}")
        scram = ScramClient(mechanism, username, password)
        first = base64.b64encode(scram.first().encode()).decode()
        self.writer.write(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{first}</auth>".encode())
        challenge = await self._until(b"</challenge>")
        server_first = base64.b64decode(_between(challenge, b"<challenge", b"</challenge>")).decode()
        final = base64.b64encode(scram.final(server_first).encode()).decode()
        self.writer.write(f"<response xmlns='{NS_SASL}'>{final}</response>".encode())
        success = await self._until(b"</success>", b"/>")
        if b"<success" not in success:
            raise LoginError(success[:300].decode(errors="replace"))
        data = _between(success, b"<success", b"</success>")
        if data:
            scram.verify(base64.b64decode(data).decode())
        self.buffer = b""
        self._open_stream()
        await self._until(b"</stream:features>")
        self.writer.write(
            f"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            f"<resource>{resource}</resource></bind></iq>".encode()
        )
        reply = await self._until(b"</iq>")
        jid = _between(reply, b"<jid", b"</jid>")
        if not jid:
            raise LoginError(f"bind failed: {reply[:300]!r}")
        self.jid = jid.decode()

    # -- teardown -----------------------------------------------------------------------------------
    def abort(self) -> None:
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        try:
            self.writer.write(b"</stream:stream>")
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (TimeoutError, OSError, ssl.SSLError):
            self.abort()


class Flow:
    """One direction of a chat pair: sender ``source`` → receiver ``sink`` with a credit window."""

    def __init__(self, source: XmppClient, sink: XmppClient, window: int) -> None:
        self.source = source
        self.sink = sink
        self.credits = window
        self.wake: asyncio.Future[None] | None = None
        self.prefix = f"<message to='{sink.jid}' type='chat'><body>".encode()
        self.sent = 0

    def credit(self, n: int) -> None:
        self.credits += n
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    async def send_loop(self, stop: asyncio.Event, rate: float = 0.0) -> None:
        """Send whenever credits allow; with ``rate`` > 0 also no faster than ``rate`` msgs/s (open loop)."""
        loop = asyncio.get_running_loop()
        writer = self.source.writer
        prefix, suffix = self.prefix, b"</body></message>"
        clock = time.perf_counter_ns
        started = loop.time()
        while not stop.is_set():
            if self.credits <= 0:
                self.wake = loop.create_future()
                await self.wake
                self.wake = None
                continue
            if rate > 0:
                due = int((loop.time() - started) * rate) - self.sent
                if due <= 0:
                    await asyncio.sleep(RATE_TICK)
                    continue
                n = min(due, self.credits)
                self.credits -= n
            else:
                n, self.credits = self.credits, 0
            stanza = prefix + str(clock()).encode() + suffix
            writer.write(stanza * n)
            self.sent += n
            if writer.transport.get_write_buffer_size() > 1 << 20:
                await writer.drain()


class Receiver:
    """Counts ``<body>`` timestamps arriving on a session and credits the partner's flow."""

    def __init__(self, client: XmppClient, flow: Flow) -> None:
        self.client = client
        self.flow = flow
        self.received = 0
        self.counted = 0
        self.latencies = array("q")
        self.window: tuple[int, int] = (0, 0)
        self.closed_early: str | None = None

    async def receive_loop(self, on_close: Callable[[str], None]) -> None:
        reader = self.client.reader
        tail = self.client.buffer
        self.client.buffer = b""
        clock = time.perf_counter_ns
        latencies = self.latencies
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                now = clock()
                buf = tail + data if tail else data
                pos = 0
                got = 0
                start, end = self.window
                counting = start <= now < end
                while True:
                    i = buf.find(b"<body>", pos)
                    if i < 0:
                        tail = buf[-5:] if len(buf) - pos > 5 else buf[pos:]
                        break
                    j = buf.find(b"</body>", i + 6)
                    if j < 0:
                        tail = buf[i:]
                        break
                    got += 1
                    if counting:
                        latencies.append(now - int(buf[i + 6 : j]))
                    pos = j + 7
                if got:
                    self.received += got
                    if counting:
                        self.counted += got
                    self.flow.credit(got)
                if b"<stream:error" in buf or b"</stream:stream>" in buf:
                    self.closed_early = buf[-300:].decode(errors="replace")
                    break
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            self.closed_early = repr(exc)
        if self.closed_early is None:
            self.closed_early = "connection closed by server"
        on_close(self.closed_early)
