"""A minimal, fast XMPP client for load: raw asyncio streams, no XML trees on the hot path.

Login is: stream open, STARTTLS (or TLS from the first byte, or none), SASL PLAIN or SCRAM
(:mod:`.sasl`, with the salted-password cache), stream restart, resource bind. After that one reader
task per session (:meth:`Session.read_loop`) scans the received bytes with ``bytes.find``: ``<body>``
texts that start with a send timestamp give delivery latencies, error stanzas are counted, and setup
steps wait for a marker (an IQ id) with :meth:`Session.expect`.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tigase_py.compat_tests.load import sasl
from tigase_py.compat_tests.load.scenario import LoadTarget

STREAM_OPEN = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
FAILURE_MARKERS = (b"<failure", b"<stream:error", b"</stream:stream>")
ERROR_MARKERS = (b"type='error'", b'type="error"')
READ_SIZE = 1 << 18
TAIL_LIMIT = 1 << 16


class LoginError(Exception):
    """The server refused or broke off the login sequence."""


CONDITION = re.compile(rb"<(?:failure|stream:error)\b[^>]*>\s*<([a-z-]+)")
HINTS = {"not-authorized": "wrong password or no such account"}


def refusal(reply: bytes) -> LoginError:
    """A one-line LoginError for a SASL failure or stream error: ``SASL failure: not-authorized (...)``."""
    found = CONDITION.search(reply)
    if found is None:
        return LoginError(f"unexpected reply: {reply[:200].decode(errors='replace')}")
    condition = found.group(1).decode()
    kind = "SASL failure" if reply[found.start() :].startswith(b"<failure") else "stream error"
    hint = HINTS.get(condition)
    return LoginError(f"{kind}: {condition}" + (f" ({hint})" if hint else ""))


def describe(exc: BaseException) -> str:
    """An exception in one line for the run's error list: no reprs, no tracebacks."""
    if isinstance(exc, LoginError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def between(data: bytes, start: bytes, end: bytes) -> bytes:
    """The text after the first ``start`` tag opening (past its ``>``) up to ``end``."""
    i = data.find(start)
    if i < 0:
        return b""
    i = data.find(b">", i) + 1
    if data[i - 2 : i] == b"/>":
        return b""
    j = data.find(end, i)
    return data[i:j] if j >= 0 else b""


def body_text(timestamp_ns: int, size: int) -> bytes:
    """A body of ``size`` bytes (at least the timestamp) starting with the send time."""
    stamp = str(timestamp_ns).encode()
    return stamp + b" " + b"x" * (size - len(stamp) - 1) if size > len(stamp) + 1 else stamp


@dataclass
class Counters:
    """What all sessions of one worker saw; read and reset once a second by the worker."""

    sent: int = 0
    delivered: int = 0
    errors: int = 0
    logins: int = 0
    window: tuple[int, int] = (0, 0)  # monotonic ns: latencies and deliveries counted in [start, end)
    measured_sent: int = 0
    measured_delivered: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_messages) < 20:
            self.error_messages.append(message[:300])


@dataclass
class _Waiter:
    start: bytes
    end: tuple[bytes, ...]
    future: asyncio.Future[bytes]


class Session:
    """One bound c2s session."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, domain: str) -> None:
        self.reader = reader
        self.writer = writer
        self.domain = domain
        self.buffer = b""
        self.jid = ""
        self.closed: str | None = None
        self.closing = False  # we ended the stream ourselves
        self.last_received = 0  # monotonic ns of the last bytes read (setup waits for quiet)
        self.on_body: Callable[[int], None] | None = None  # called with each delivered body's count
        self.on_chunk: Callable[[Session, bytes], None] | None = None  # every received chunk (setup steps)
        self.waiters: list[_Waiter] = []
        self.approved: set[str] = set()  # contacts that approved our subscription (presence-storm setup)
        self.partial_tag = b""  # a start tag cut by the end of the last chunk (read by on_chunk handlers)
        self.stamp_tag = (b"<body>", b"</body>")  # the element whose text starts with the send time

    # -- login ------------------------------------------------------------------------------------------
    @classmethod
    async def login(cls, target: LoadTarget, username: str, resource: str, context: ssl.SSLContext | None) -> Session:
        direct = context if target.tls == "direct" else None
        server_hostname = target.domain if direct is not None else None
        reader, writer = await asyncio.open_connection(
            target.host, target.port, limit=READ_SIZE, ssl=direct, server_hostname=server_hostname
        )
        session = cls(reader, writer, target.domain)
        try:
            await session._negotiate(target, username, resource, context)
        except BaseException:
            session.abort()
            raise
        return session

    async def read_until(self, marker: bytes, *alternatives: bytes) -> bytes:
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
                raise refusal(self.buffer[:300])
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise LoginError("the server closed the connection during login")
            self.buffer += data

    def open_stream(self) -> None:
        self.buffer = b""
        self.writer.write(STREAM_OPEN.format(domain=self.domain).encode())

    async def _negotiate(
        self, target: LoadTarget, username: str, resource: str, context: ssl.SSLContext | None
    ) -> None:
        self.open_stream()
        features = await self.read_until(b"</stream:features>")
        if target.tls == "starttls":
            if b"<starttls" not in features or context is None:
                raise LoginError("no STARTTLS offered")
            self.writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            await self.read_until(b"<proceed")
            await self.writer.start_tls(context, server_hostname=self.domain)
            self.open_stream()
            features = await self.read_until(b"</stream:features>")
        mechanism = target.mechanism
        if f">{mechanism}<".encode() not in features:
            raise LoginError(f"{mechanism} not offered")
        if mechanism == "PLAIN":
            initial = sasl.plain_initial(username, target.password)
            self.writer.write(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{initial}</auth>".encode())
            reply = await self.read_until(b"</success>", b"/>")
        else:
            reply = await self._scram(mechanism, username, target.password)
        if b"<success" not in reply:
            raise refusal(reply[:300])
        self.open_stream()
        await self.read_until(b"</stream:features>")
        self.writer.write(
            f"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            f"<resource>{resource}</resource></bind></iq>".encode()
        )
        reply = await self.read_until(b"</iq>", b"/>")
        jid = between(reply + self.buffer, b"<jid", b"</jid>")
        if not jid:
            raise LoginError(f"bind failed: {reply[:300]!r}")
        self.jid = jid.decode()
        self.buffer = b""

    async def _scram(self, mechanism: str, username: str, password: str) -> bytes:
        scram = sasl.ScramClient(mechanism, username, password)
        first = base64.b64encode(scram.first().encode()).decode()
        self.writer.write(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{first}</auth>".encode())
        challenge = await self.read_until(b"</challenge>")
        server_first = base64.b64decode(between(challenge, b"<challenge", b"</challenge>")).decode()
        final = base64.b64encode(scram.final(server_first).encode()).decode()
        self.writer.write(f"<response xmlns='{NS_SASL}'>{final}</response>".encode())
        reply = await self.read_until(b"</success>", b"/>")
        data = between(reply, b"<success", b"</success>")
        if data:
            scram.verify(base64.b64decode(data).decode())
        return reply

    # -- after login ------------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def expect(self, start: bytes, *end: bytes) -> asyncio.Future[bytes]:
        """A future resolved with the received text from ``start`` (an id, a JID) to the element's end.

        The element ends at the first ``end`` marker after ``start`` (default ``</iq>``), or right away
        when the tag holding ``start`` closes itself (``.../>``). Register before sending the request;
        :meth:`read_loop` must be running.
        """
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiters.append(_Waiter(start, end or (b"</iq>",), future))
        return future

    def _resolve_waiters(self, buf: bytes) -> None:
        for waiter in list(self.waiters):
            i = buf.find(waiter.start)
            if i < 0:
                continue
            tag_end = buf.find(b">", i)
            i = max(0, buf.rfind(b"<", 0, i))  # from the start of the tag holding the marker
            if tag_end > 0 and buf[tag_end - 1 : tag_end] == b"/":
                found = buf[i : tag_end + 1]
            else:
                ends = [(j + len(e)) for e in waiter.end if (j := buf.find(e, i + len(waiter.start))) >= 0]
                if not ends:
                    continue
                found = buf[i : min(ends)]
            if not waiter.future.done():
                waiter.future.set_result(found)
            self.waiters.remove(waiter)

    async def read_loop(self, counters: Counters) -> None:
        """Until the connection ends: count stamped elements (latency from their timestamp), errors, resolve waiters."""
        reader = self.reader
        tail, self.buffer = self.buffer, b""
        clock = time.monotonic_ns
        latencies = counters.latencies_ns
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                now = clock()
                self.last_received = now
                buf = tail + data if tail else data
                start, end = counters.window
                counting = start <= now < end
                opening, closing = self.stamp_tag
                skip = len(opening)
                pos = got = 0
                cut = len(buf)
                while True:
                    i = buf.find(opening, pos)
                    if i < 0:
                        break
                    j = buf.find(closing, i + skip)
                    if j < 0:
                        cut = i
                        break
                    text = buf[i + skip : j]
                    k = text.find(b" ")
                    stamp = text[:k] if k > 0 else text
                    if stamp.isdigit():
                        got += 1
                        if counting:
                            latencies.append(now - int(stamp))
                    pos = j + len(closing)
                if got:
                    counters.delivered += got
                    if counting:
                        counters.measured_delivered += got
                    if self.on_body is not None:
                        self.on_body(got)
                if b"type='error'" in data or b'type="error"' in data:
                    counters.error(f"{self.jid}: {data[max(0, data.find(b'error') - 200) :][:300]!r}")
                if self.waiters:
                    self._resolve_waiters(buf)
                if self.on_chunk is not None:
                    self.on_chunk(self, data)
                if b"<stream:error" in buf or b"</stream:stream>" in buf:
                    self.closed = buf[-300:].decode(errors="replace")
                    break
                # Keep an unfinished body, or the last bytes where a marker may be split.
                tail = buf[cut:] if cut < len(buf) else buf[max(pos, len(buf) - 64) :]
                if len(tail) > TAIL_LIMIT:
                    tail = tail[-TAIL_LIMIT:]
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            self.closed = repr(exc)
        if self.closed is None:
            self.closed = "connection closed by the server"
        if not self.closing:
            counters.error(f"{self.jid}: lost: {self.closed}")

    # -- teardown ---------------------------------------------------------------------------------------
    def abort(self) -> None:
        self.closing = True
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        self.closing = True
        try:
            self.writer.write(b"</stream:stream>")
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 3)
        except (TimeoutError, OSError, ssl.SSLError, RuntimeError):
            self.abort()
