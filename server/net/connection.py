"""The transport half of an XML stream connection: admission, buffered writes, write-side
backpressure, pausing reads (per-connection byte rate, backlog, full recipients) and closing once.

Backpressure: each transport's write buffer has a soft mark (``[limits] output_buffer_soft``) and a
low mark (a quarter of it). While a connection's output is above the soft mark, every connection
that writes to it (the sender whose stanza is being routed, found through :data:`FEEDER`) stops
reading until the output drains below the low mark, so nothing is dropped. A connection whose
output stays above the soft mark for ``slow_reader_timeout`` while draining less than a quarter of
the mark, or passes ``output_buffer_hard``, is closed with one ``policy-violation`` stream error
(defect 1 of issue 12: closing used to flush, and flushing past the limit closed again, for ever).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from typing import TYPE_CHECKING, cast

from tigase_py.server.errors import StreamError
from tigase_py.server.net.admission import TokenBucket

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server
    from tigase_py.server.xml.element import Element

log = logging.getLogger("tigase_py.c2s")

# The connection whose input is being processed; writes it causes count against it.
FEEDER: contextvars.ContextVar[StreamConnection | None] = contextvars.ContextVar("feeder", default=None)

BACKLOG = 1  # too many stanzas queued for processing
RATE = 2  # byte rate exceeded
FEEDING = 4  # a connection it writes to is above its soft mark
REASONS = {BACKLOG: "backlog", RATE: "byte_rate", FEEDING: "backpressure"}
CLOSE_GRACE = 2.0  # seconds a closed stream may take to drain before it is aborted


class StreamConnection(asyncio.Protocol):
    """Subclasses implement :meth:`opened` (after admission) and :meth:`before_stream_error`."""

    __slots__ = (
        "server",
        "transport",
        "closing",
        "peer",
        "ip",
        "trusted",
        "pre_auth",
        "last_read",
        "_out",
        "_flush_scheduled",
        "_upgrading",
        "_holds",
        "_bucket",
        "_rate_timer",
        "_feeders",
        "_feeding",
        "_writing_paused",
        "_stall_timer",
        "_abort_timer",
        "_out_size",
        "_stall_mark",
    )

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.closing = False
        self.peer = ""
        self.ip = ""
        self.trusted = False
        self.pre_auth = False  # counted against its address until a session is established
        self.last_read = time.monotonic()
        self._out: list[bytes] = []
        self._out_size = 0  # bytes in _out
        self._stall_mark = 0  # write buffer size when the stall clock last started
        self._flush_scheduled = False
        self._upgrading = False
        self._holds = 0
        self._bucket: TokenBucket | None = None
        self._rate_timer: asyncio.TimerHandle | None = None
        self._feeders: set[StreamConnection] = set()  # paused because of my output
        self._feeding: set[StreamConnection] = set()  # whose output I wait for
        self._writing_paused = False
        self._stall_timer: asyncio.TimerHandle | None = None
        self._abort_timer: asyncio.TimerHandle | None = None

    # -- hooks for the stream layer ------------------------------------
    def opened(self) -> None:
        """The connection was admitted."""

    def before_stream_error(self) -> None:
        """Called once before a stream error is written (send the stream header if not yet sent)."""

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop transports do not subclass it
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else ""
        self.ip = str(peer[0]) if peer else ""
        self.adopt_transport(self.transport)
        admission = self.server.admission
        self.trusted = admission.is_trusted(self.ip)
        refusal = admission.check_fds(transport) or admission.admit(self.ip, len(self.server.connections), self.trusted)
        if refusal is not None:
            reason, condition, text = refusal
            self.server.stats.connections_refused.labels(reason).value += 1
            self.close_with_error(condition, text)
            return
        self.pre_auth = not self.trusted
        limits = self.server.config.limits
        if not self.trusted:
            self._bucket = TokenBucket(limits.pre_auth_byte_rate, limits.pre_auth_byte_burst, time.monotonic())
        self.server.connections.add(self)
        self.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._stop_timers()
        if self._abort_timer is not None:
            self._abort_timer.cancel()
            self._abort_timer = None
        self._release_all()
        self.left_pre_auth()
        self.server.connections.discard(self)

    def pause_writing(self) -> None:
        self._writing_paused = True
        if self._stall_timer is None and not self.closing:
            self._start_stall_clock()

    def _start_stall_clock(self) -> None:
        assert self.transport is not None
        self._stall_mark = self.transport.get_write_buffer_size()
        timeout = self.server.config.limits.slow_reader_timeout
        self._stall_timer = asyncio.get_running_loop().call_later(timeout, self._stalled)

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._release_feeders()

    # -- reading ---------------------------------------------------------------
    def adopt_transport(self, transport: asyncio.Transport) -> None:
        """Use ``transport`` (the first one, or the TLS one after STARTTLS): output marks, pauses."""
        self.transport = transport
        soft = self.server.config.limits.output_buffer_soft
        transport.set_write_buffer_limits(high=soft, low=soft // 4)
        if self._holds and not self.closing:
            transport.pause_reading()

    def count_read(self, size: int) -> None:
        """Account ``size`` bytes just read: idle clock and the byte-rate bucket."""
        now = time.monotonic()
        self.last_read = now
        bucket = self._bucket
        if bucket is None:
            return
        wait = bucket.take(size, now)
        if wait > 0 and self._rate_timer is None:
            self.hold(RATE)
            self._rate_timer = asyncio.get_running_loop().call_later(wait, self._refilled)

    def _refilled(self) -> None:
        self._rate_timer = None
        self.release(RATE)

    def left_pre_auth(self) -> None:
        """The stream established a session (or closed): leave the per-address pre-auth count and
        switch to the authenticated byte rate."""
        if not self.pre_auth:
            return
        self.pre_auth = False
        self.server.admission.release_pre_auth(self.ip)
        if self._bucket is not None and not self.closing:
            limits = self.server.config.limits
            self._bucket = TokenBucket(limits.byte_rate, limits.byte_burst, time.monotonic())

    def hold(self, reason: int) -> None:
        """Stop reading for ``reason`` until :meth:`release` of every reason held."""
        if self._holds & reason:
            return
        if not self._holds and self.transport is not None and not self.closing and not self._upgrading:
            self.transport.pause_reading()
        self._holds |= reason
        self.server.stats.reads_paused.labels(REASONS[reason]).value += 1

    def release(self, reason: int) -> None:
        if not self._holds & reason:
            return
        self._holds &= ~reason
        if not self._holds and self.transport is not None and not self.closing and not self._upgrading:
            self.transport.resume_reading()

    @property
    def is_reading_paused(self) -> bool:
        return bool(self._holds)

    # -- backpressure ------------------------------------------------------------
    def _wait_for(self, recipient: StreamConnection) -> None:
        recipient._feeders.add(self)
        self._feeding.add(recipient)
        self.hold(FEEDING)

    def _release_feeders(self) -> None:
        feeders, self._feeders = self._feeders, set()
        for feeder in feeders:
            feeder._feeding.discard(self)
            if not feeder._feeding:
                feeder.release(FEEDING)

    def _release_all(self) -> None:
        self._release_feeders()
        for recipient in self._feeding:
            recipient._feeders.discard(self)
        self._feeding.clear()

    def _stalled(self) -> None:
        """Still above the soft mark after slow_reader_timeout: fine if it drained at least a quarter
        of the soft mark meanwhile (a slow reader), closed if not (a reader that stopped)."""
        self._stall_timer = None
        transport = self.transport
        if transport is None or self.closing:
            return
        drained = self._stall_mark - transport.get_write_buffer_size()
        if drained >= self.server.config.limits.output_buffer_soft // 4:
            self._start_stall_clock()
            return
        log.info("slow_reader_closed peer=%s seconds=%s", self.peer, self.server.config.limits.slow_reader_timeout)
        self.close_with_error("policy-violation", "the client is not reading its stream")

    # -- writing ---------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Queue bytes for the socket; everything written in one loop iteration goes out in one write.
        Once the stream is closing nothing more is queued (and nobody is paused for it)."""
        if self.closing:
            return
        self._out.append(data)
        self._out_size += len(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)
        if self._writing_paused or self._out_size > self.server.config.limits.output_buffer_soft:
            feeder = FEEDER.get()
            if feeder is not None and not feeder.closing and self not in feeder._feeding:
                feeder._wait_for(self)

    def flush(self) -> None:
        self._flush_scheduled = False
        out = self._out
        transport = self.transport
        if not out or self._upgrading or self.closing:
            return  # kept until the TLS upgrade completes; close() writes what is left
        self._out = []
        self._out_size = 0
        if transport is None or transport.is_closing():
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        self.server.stats.bytes_out.plain.value += len(data)
        transport.write(data)
        if self._feeders and not self._writing_paused:
            self._release_feeders()  # held for queued bytes the socket took at once
        if transport.get_write_buffer_size() > self.server.config.limits.output_buffer_hard:
            log.info("output_limit_closed peer=%s buffered=%d", self.peer, transport.get_write_buffer_size())
            self.close_with_error("policy-violation", "the client is not reading its stream")

    def close_with_error(self, condition: str, text: str = "", app_condition: Element | None = None) -> None:
        """Send one stream error and close; later calls do nothing."""
        if self.closing:
            return
        self.server.stats.stream_errors.labels(condition).value += 1
        self.before_stream_error()
        self._out.append(StreamError(condition, text, app_condition).to_element().to_bytes())
        self.close()

    def close(self) -> None:
        """End the stream once: write what is queued and ``</stream:stream>``, then close the socket
        (aborted after a grace period if the peer does not take the bytes)."""
        if self.closing:
            return
        self.closing = True
        self._stop_timers()
        self._release_all()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._upgrading:
            transport.abort()
            return
        out, self._out = self._out, []
        self._out_size = 0
        out.append(b"</stream:stream>")
        data = b"".join(out)
        self.server.stats.bytes_out.plain.value += len(data)
        transport.write(data)
        transport.close()
        self._abort_timer = asyncio.get_running_loop().call_later(CLOSE_GRACE, transport.abort)

    def _stop_timers(self) -> None:
        for timer in (self._rate_timer, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._rate_timer = self._stall_timer = None
