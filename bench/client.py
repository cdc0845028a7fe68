"""The benchmark's chat traffic over the load package's raw client (``compat_tests/load/client.py``).

Login is the load client's STARTTLS sequence: stream open, STARTTLS, SASL SCRAM (salted password cached
as real clients do), stream restart, resource bind. After that the benchmark only sends pre-rendered
``<message/>`` stanzas (:class:`Flow`) and scans received bytes for ``<body>…</body>`` with
``bytes.find`` (:class:`Receiver`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from array import array
from collections.abc import Callable
from typing import cast

from tigase_py.compat_tests.load.client import READ_SIZE, Session, tls_context
from tigase_py.compat_tests.load.scenario import LoadTarget, Mechanism

XmppClient = Session  # one bound c2s session
RATE_TICK = 0.005  # open-loop senders wake this often


def insecure_context() -> ssl.SSLContext:
    return tls_context(verify=False)


def starttls_target(host: str, port: int, domain: str, password: str, mechanism: str) -> LoadTarget:
    """The load package's description of a STARTTLS c2s listener whose accounts share ``password``."""
    return LoadTarget(host=host, port=port, domain=domain, password=password, mechanism=cast(Mechanism, mechanism))


async def login(
    host: str,
    port: int,
    domain: str,
    username: str,
    password: str,
    resource: str,
    context: ssl.SSLContext,
    mechanism: str = "SCRAM-SHA-256",
) -> XmppClient:
    """A session bound as ``username@domain/resource`` after STARTTLS and SASL ``mechanism``."""
    return await Session.login(starttls_target(host, port, domain, password, mechanism), username, resource, context)


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
