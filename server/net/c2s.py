"""The TCP transport of a client stream: bytes → restricted parser → :class:`C2SStream`, the
STARTTLS upgrade, the pre-auth and idle timers, and the byte accounting before the parser.

Buffered writes, backpressure and closing once come from :class:`StreamConnection`; the negotiation
(features, SASL, bind, pre-auth features of modules) is the transport-free
:class:`~tigase_py.server.stream.c2s.C2SStream`, which this class drives and serves as its
:class:`~tigase_py.server.stream.transport.StreamTransport`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

from tigase_py.server.errors import StreamError
from tigase_py.server.net.connection import BACKLOG, FEEDER, StreamConnection
from tigase_py.server.stream.c2s import C2SStream
from tigase_py.server.stream.services import StreamServices, parser_limits
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element, escape_attr
from tigase_py.server.xml.parser import StreamParser, XmlStreamError

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ListenerConfig
    from tigase_py.server.core.metrics import Value
    from tigase_py.server.core.server import Server
    from tigase_py.server.core.session import Session
    from tigase_py.server.net.tls import TlsSetup

log = logging.getLogger("tigase_py.c2s")


def stream_services(server: Server, listener: ListenerConfig, tls: TlsSetup | None) -> StreamServices:
    """What the streams of one listener use of ``server`` (built once per listener)."""

    def auth_failed() -> None:
        server.auth_failures += 1

    return StreamServices(
        config=server.config, vhosts=server.vhosts, storage=server.storage, sessions=server.sessions,
        router=server.router, bus=server.bus, registry=server.registry, login_guard=server.login_guard,
        stats=server.stats, track=server.track, auth_failed=auth_failed,
        starttls=tls is not None and listener.tls == "starttls",
        require_tls=tls is not None and listener.require_tls,
        channel_binding=tls.end_point_binding if tls is not None else None,
    )  # fmt: skip


class C2SConnection(StreamConnection):
    """One client TCP connection; the writer of its session."""

    __slots__ = (
        "listener", "tls", "stream", "parser", "_timer", "_header_sent", "_held", "active", "_gauge",
        "_stats", "_idle_ping",
    )  # fmt: skip

    def __init__(
        self, server: Server, services: StreamServices, listener: ListenerConfig, tls: TlsSetup | None,
        direct_tls: bool,
    ) -> None:  # fmt: skip
        super().__init__(server)
        self.listener = listener
        self.tls = tls
        self.stream = C2SStream(services, self, secure=direct_tls)
        self.parser = StreamParser(self.stream, parser_limits(server.config.limits, authenticated=False))
        self._timer: asyncio.TimerHandle | None = None
        self._header_sent = False
        self._held: list[bytes] = []
        self.active = True  # data arrived since the last idle sweep
        self._stats = server.stats
        self._gauge: Value | None = None
        self._idle_ping = 0.0  # when the outstanding idle ping was sent (0: none)

    @property
    def session(self) -> Session | None:
        return self.stream.session

    # -- asyncio.Protocol -------------------------------------------------
    def opened(self) -> None:
        listener = f"{self.listener.address}:{self.listener.port}"
        self._stats.connections_accepted.labels(listener).value += 1
        self._count_connection("tls" if self.stream.secure else "plain")
        timeout = self.server.config.limits.pre_auth_timeout
        self._timer = asyncio.get_running_loop().call_later(timeout, self._pre_auth_expired)

    def _count_connection(self, state: str | None) -> None:
        if self._gauge is not None:
            self._gauge.value -= 1
            self._gauge = None
        if state is not None:
            self._gauge = self._stats.connections.labels(f"{self.listener.address}:{self.listener.port}", state)
            self._gauge.value += 1

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self._upgrading:
            self._held.append(data)
            return
        self.active = True
        self.count_read(len(data))
        self._stats.bytes_in.plain.value += len(data)
        try:
            self.parser.feed(data)
        except XmlStreamError as exc:
            app = Element("stanza-too-big", ns=ns.XMPP_ERRORS) if exc.too_big else None
            self.close_with_error(exc.condition, exc.text, app)
        except StreamError as exc:
            self.close_with_error(exc.condition, exc.text, exc.app_condition)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._count_connection(None)
        if self._timer is not None:
            self._timer.cancel()
        self.stream.transport_closed()

    # -- StreamTransport ------------------------------------------------------
    def open_stream(self, frm: str | None) -> None:
        self._header_sent = True
        attr = f" from='{escape_attr(frm)}'" if frm else ""
        header = (
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='http://etherx.jabber.org/streams' id='{secrets.token_hex(8)}'{attr} "
            "version='1.0' xml:lang='en'>"
        )
        self.write(header.encode())

    def send_stanza(self, stanza: Element) -> None:
        counter = self._stats.out_by_kind.get(stanza.tag)
        if counter is not None:
            counter.value += 1
        self.write(stanza.to_bytes())

    def start_tls(self) -> None:
        assert self.transport is not None and self.tls is not None
        self.flush()
        self.transport.pause_reading()
        self.parser.reset()
        self._upgrading = True
        self.server.track(self._upgrade())

    def restart(self, authenticated: bool) -> None:
        self.parser.reset()
        self.parser.set_limits(parser_limits(self.server.config.limits, authenticated))

    def session_bound(self) -> None:
        self.left_pre_auth()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.parser.hibernate()  # most sessions idle right after binding; the next stanza rebuilds it

    def hold_input(self) -> None:
        self.hold(BACKLOG)

    def release_input(self) -> None:
        self.release(BACKLOG)

    def begin_processing(self) -> None:
        FEEDER.set(self)  # this task's writes to other connections are this connection's

    def before_stream_error(self) -> None:
        self.stream.discard_pending()
        if not self._header_sent:
            self.open_stream(None)

    # -- TLS ----------------------------------------------------------------------
    async def _upgrade(self) -> None:
        assert self.transport is not None and self.tls is not None
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(self.transport, self, self.tls.context, server_side=True), timeout=30
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.info("tls_failed peer=%s reason=%s", self.peer, exc)
            self._stats.tls_failures.plain.value += 1
            self.transport.abort()
            return
        if transport is None:
            return
        self._upgrading = False
        self.adopt_transport(transport)  # type: ignore[arg-type]
        self.stream.tls_established()
        self._stats.tls_upgrades.plain.value += 1
        self._count_connection("tls")
        self.flush()
        held, self._held = self._held, []
        for data in held:
            self.data_received(data)

    # -- timers -------------------------------------------------------------------
    def sweep_idle(self) -> bool:
        """Called periodically: free the parser of a bound session that sent nothing since last time."""
        if self.active or self.stream.session is None or self.closing:
            self.active = False
            return False
        return self.parser.hibernate()

    def check_idle(self, now: float) -> None:
        """XEP-0199 ping a session silent for ``idle_timeout``; close it if nothing comes back in
        ``idle_ping_timeout`` (any bytes count as an answer)."""
        session = self.stream.session
        if session is None or self.closing:
            return
        limits = self.server.config.limits
        if self._idle_ping:
            if self.last_read > self._idle_ping:
                self._idle_ping = 0.0
            elif now - self._idle_ping >= limits.idle_ping_timeout:
                log.info("idle_closed jid=%s peer=%s", session.full, self.peer)
                self.close_with_error("connection-timeout", "no answer to the idle ping")
            return
        if now - self.last_read >= limits.idle_timeout:
            self._idle_ping = now
            self._stats.idle_pings.plain.value += 1
            self.send_stanza(self.stream.idle_ping())

    def _pre_auth_expired(self) -> None:
        if self.stream.session is None:
            self.close_with_error("connection-timeout", "no session established in time")
