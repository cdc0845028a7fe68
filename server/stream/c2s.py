"""A client-to-server connection: bytes → restricted parser → negotiation → bound session.

Negotiation follows RFC 6120: stream header, STARTTLS (or direct TLS, XEP-0368), SASL, stream
restart, resource binding. Once bound, every stanza is stamped with the session's full JID and handed
to the router, in order, one at a time.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.core import login_guard
from tigase_py.server.core.metrics import Value
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError, StreamError, error_reply
from tigase_py.server.modules import register
from tigase_py.server.net.connection import BACKLOG, FEEDER, StreamConnection
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.stream import sasl
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element, escape_attr
from tigase_py.server.xml.parser import ParserLimits, StreamParser, XmlStreamError

if TYPE_CHECKING:
    from tigase_py.server.config.schema import LimitsConfig, ListenerConfig
    from tigase_py.server.core.server import Server
    from tigase_py.server.net.tls import TlsSetup

log = logging.getLogger("tigase_py.c2s")

MAX_PENDING_STANZAS = 64
STANZA_TAGS = frozenset({"message", "presence", "iq"})


def parser_limits(limits: LimitsConfig, authenticated: bool) -> ParserLimits:
    """Byte limits for the stream parser; before authentication far stricter than after."""
    if authenticated:
        return ParserLimits(
            max_stanza_bytes=limits.max_stanza_size,
            max_header_bytes=limits.max_stream_header_size,
            max_tag_bytes=limits.max_tag_size,
        )
    return ParserLimits(
        max_stanza_bytes=min(limits.pre_auth_stanza_size, limits.max_stanza_size),
        max_header_bytes=limits.max_stream_header_size,
        max_tag_bytes=min(limits.max_tag_size, limits.pre_auth_stanza_size),
        max_elements=32,
    )


class C2SConnection(StreamConnection):
    """One client connection; also the StreamSink for its parser and the writer for its session."""

    __slots__ = (
        "listener", "tls", "secure", "parser", "domain", "username", "session", "sasl",
        "_queue", "_worker", "_timer", "_header_sent", "_held", "active", "_gauge", "_stats", "_idle_ping",
    )

    def __init__(self, server: Server, listener: ListenerConfig, tls: TlsSetup | None, direct_tls: bool) -> None:
        super().__init__(server)
        self.listener = listener
        self.tls = tls
        self.secure = direct_tls
        self.parser = StreamParser(self, parser_limits(server.config.limits, authenticated=False))
        self.domain = ""
        self.username: str | None = None
        self.session: Session | None = None
        self.sasl: sasl.SaslExchange | None = None
        self._queue: collections.deque[Element] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._header_sent = False
        self._held: list[bytes] = []
        self.active = True  # data arrived since the last idle sweep
        self._stats = server.stats
        self._gauge: Value | None = None
        self._idle_ping = 0.0  # when the outstanding idle ping was sent (0: none)

    # -- asyncio.Protocol -------------------------------------------------
    def opened(self) -> None:
        listener = f"{self.listener.address}:{self.listener.port}"
        self._stats.connections_accepted.labels(listener).value += 1
        self._count_connection("tls" if self.secure else "plain")
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
        if self.session is not None:
            session, self.session = self.session, None
            self.server.track(self._end_session(session))

    # -- StreamSink -------------------------------------------------------
    def stream_opened(self, tag: str, namespace: str, attrs: dict[str, str]) -> None:
        to = attrs.get("to")
        self._send_header(to)
        if tag.partition(":")[2] != "stream" and tag != "stream" or namespace != ns.STREAM:
            raise StreamError("invalid-namespace", "the stream element must be in the streams namespace")
        if attrs.get("xmlns", "") != ns.CLIENT:
            raise StreamError("invalid-namespace", "this port serves jabber:client streams")
        version = attrs.get("version", "0.9")
        if not version.startswith("1."):
            raise StreamError("unsupported-version", "XMPP 1.0 streams only")
        if to is None:
            raise StreamError("improper-addressing", "the stream header needs a 'to' address")
        try:
            domain = jids.prep_domain(to)
        except jids.JidError:
            raise StreamError("host-unknown") from None
        if domain not in self.server.vhosts:
            raise StreamError("host-unknown", f"{domain} is not served here")
        if self.domain and domain != self.domain:
            raise StreamError("host-unknown", "the domain changed on stream restart")
        self.domain = domain
        self._send_features()

    def stanza_received(self, stanza: Element) -> None:
        if self.session is not None:
            self._accept_bound(stanza)
            return
        self._enqueue(stanza)

    def stream_closed(self) -> None:
        self.close()

    # -- negotiation -------------------------------------------------------
    def _send_header(self, to: str | None) -> None:
        self._header_sent = True
        frm = f" from='{escape_attr(self.domain or to or '')}'" if (self.domain or to) else ""
        header = (
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='http://etherx.jabber.org/streams' id='{secrets.token_hex(8)}'{frm} "
            "version='1.0' xml:lang='en'>"
        )
        self.write(header.encode())

    def _mechanisms(self) -> list[str]:
        auth = self.server.config.auth
        return sasl.offered_mechanisms(auth.mechanisms, self.secure, auth.allow_plain_without_tls)

    def _send_features(self) -> None:
        features = Element("stream:features")
        if self.username is None:
            if not self.secure and self.tls is not None and self.listener.tls == "starttls":
                starttls = features.add("starttls", ns=ns.TLS)
                if self.listener.require_tls:
                    starttls.add("required")
            if self.secure or not self.listener.require_tls or self.tls is None:
                mechanisms = features.add("mechanisms", ns=ns.SASL)
                for name in self._mechanisms():
                    mechanisms.add("mechanism", text=name)
            if self.secure and self.tls is not None:
                binding = features.add("sasl-channel-binding", ns="urn:xmpp:sasl-cb:0")
                binding.add("channel-binding", {"type": "tls-server-end-point"})
            registration = register.preauth_feature(self)
            if registration is not None:
                features.append(registration)
        else:
            features.add("bind", ns=ns.BIND)
            features.add("session", ns=ns.SESSION).add("optional")
            for feature in self.server.registry.stream_features(self.domain, self):
                features.append(feature)
        # XEP-0478: the limits in force on this stream now (pre-auth ones are stricter).
        limits = features.add("limits", ns=ns.STREAM_LIMITS)
        limits.add("max-bytes", text=str(self.parser.limits.max_stanza_bytes))
        if self.username is not None:
            limits.add("idle-seconds", text=str(int(self.server.config.limits.idle_timeout)))
        self.write(features.to_bytes())

    def _enqueue(self, stanza: Element) -> None:
        """Queue a stanza for in-order processing; the queue and its worker exist only while busy."""
        queue = self._queue
        if queue is None:
            queue = self._queue = collections.deque()
        queue.append(stanza)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(queue))
        if len(queue) > MAX_PENDING_STANZAS:
            self.hold(BACKLOG)

    async def _work(self, queue: collections.deque[Element]) -> None:
        FEEDER.set(self)  # this task's writes to other connections are this connection's
        while queue:
            stanza = queue.popleft()
            try:
                if self.session is None:
                    await self._negotiate(stanza)
                else:
                    await self.server.router.route(stanza, self.session)
            except StreamError as exc:
                self.close_with_error(exc.condition, exc.text, exc.app_condition)
            except StanzaError as exc:
                self.write(error_reply(stanza, exc).to_bytes())
            except Exception:
                log.exception("stanza_failed peer=%s", self.peer)
                if stanza.tag in STANZA_TAGS:
                    self.write(error_reply(stanza, StanzaError("internal-server-error")).to_bytes())
            if len(queue) < MAX_PENDING_STANZAS // 2:
                self.release(BACKLOG)
        if self._queue is queue:
            self._queue = None
            self._worker = None

    async def _negotiate(self, stanza: Element) -> None:
        name, namespace = stanza.name, stanza.ns
        if namespace == ns.TLS and name == "starttls":
            return self._start_tls()
        if namespace == ns.SASL and self.username is None:
            return await self._sasl_step(stanza)
        if self.username is not None and name == "iq":
            bind = stanza.find("bind", ns.BIND)
            if bind is not None and stanza.get("type") == "set":
                return await self._bind(stanza, bind)
            if stanza.find("session", ns.SESSION) is not None:
                raise StreamError("not-authorized", "bind a resource first")
        if self.username is None and name == "iq" and stanza.find("query", ns.REGISTER) is not None:
            self.write((await register.handle_preauth(self, stanza)).to_bytes())
            return None
        if self.username is None and not self.secure and self.listener.require_tls and self.tls is not None:
            raise StreamError("policy-violation", "STARTTLS is required")
        raise StreamError("not-authorized", "authenticate and bind a resource first")

    def _start_tls(self) -> None:
        if self.secure or self.tls is None or self.username is not None:
            raise StreamError("policy-violation", "STARTTLS is not available now")
        assert self.transport is not None
        self.write(Element("proceed", ns=ns.TLS).to_bytes())
        self.flush()
        self.transport.pause_reading()
        self.parser.reset()
        self._upgrading = True
        self.server.track(self._upgrade())

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
        self.secure = True
        self._stats.tls_upgrades.plain.value += 1
        self._count_connection("tls")
        self.flush()
        held, self._held = self._held, []
        for data in held:
            self.data_received(data)

    async def _sasl_step(self, stanza: Element) -> None:
        if not self.secure and self.listener.require_tls and self.tls is not None:
            raise StreamError("policy-violation", "STARTTLS is required before authentication")
        try:
            if stanza.name == "auth":
                binding = self.tls.end_point_binding if (self.secure and self.tls) else None
                self.sasl = sasl.SaslExchange(
                    self.server.storage, self.domain, self._mechanisms(), binding,
                    self.server.login_guard, login_guard.peer_ip(self.peer),
                )
                result = await self.sasl.start(stanza)
            elif stanza.name == "response" and self.sasl is not None:
                result = await self.sasl.respond(stanza)
            elif stanza.name == "abort":
                self.sasl = None
                raise sasl.SaslFailure("aborted")
            else:
                raise sasl.SaslFailure("malformed-request")
        except StorageError as exc:  # RFC 6120 §6.5.11; not counted as a failed login
            log.warning("auth_storage_failed peer=%s reason=%s", self.peer, exc)
            self.sasl = None
            self.write(sasl.SaslFailure("temporary-auth-failure").to_element().to_bytes())
            return
        except sasl.SaslFailure as failure:
            mechanism = self.sasl.mechanism if self.sasl is not None else "other"
            self.sasl = None
            self.server.auth_failures += 1
            self._stats.auth_failure.labels(mechanism).value += 1
            log.info("auth_failed peer=%s condition=%s", self.peer, failure.condition)
            self.write(failure.to_element().to_bytes())
            return
        self.write(result.reply.to_bytes())
        if result.username is not None:
            assert self.sasl is not None
            self._stats.auth_success.labels(self.sasl.mechanism).value += 1
            self.username = result.username
            self.sasl = None
            self.parser.reset()
            self.parser.set_limits(parser_limits(self.server.config.limits, authenticated=True))

    async def _bind(self, stanza: Element, bind: Element) -> None:
        assert self.username is not None
        requested = (bind.find_text("resource", ns.BIND) or "").strip(" \t\r\n")  # ASCII only: PRECIS refuses U+0085
        resource = requested or secrets.token_hex(6)
        owner = f"{self.username}@{self.domain}"
        try:
            full = jids.parse(f"{owner}/{resource}")
        except jids.JidError as exc:  # RFC 6120 §7.7.2.1; the resource must pass PRECIS OpaqueString
            raise StanzaError("bad-request", str(exc)) from None
        sessions = self.server.sessions
        existing = sessions.get(full)
        limits = self.server.config.limits
        if existing is None and sessions.resource_count(owner) >= limits.max_sessions_per_user:
            raise StanzaError("resource-constraint", "too many sessions for this account")
        if existing is not None and self.server.config.server.resource_conflict == "refuse":
            raise StanzaError("conflict", "resource in use")
        session = Session(self, full, self.peer, self.secure)
        previous = sessions.add(session)
        self._stats.sessions_bound.plain.value += 1
        if previous is not None:
            self._stats.sessions_replaced.plain.value += 1
        self.session = session
        self.left_pre_auth()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if previous is not None:
            previous.writer.close_with_error("conflict", "replaced by a new session")
        reply = Element("iq", {"type": "result", "id": stanza.get("id") or ""})
        reply.add("bind", ns=ns.BIND).add("jid", text=str(full))
        self.write(reply.to_bytes())
        self.parser.hibernate()  # most sessions idle right after binding; the next stanza rebuilds it
        await self.server.bus.fire("session.bound", self.domain, session=session)
        # Stanzas pipelined behind the bind request are routed now, in order.
        pending = list(self._queue or ())
        if self._queue is not None:
            self._queue.clear()
        for queued in pending:
            self._accept_bound(queued)

    # -- bound sessions ------------------------------------------------------
    def _accept_bound(self, stanza: Element) -> None:
        session = self.session
        assert session is not None
        if stanza.tag not in STANZA_TAGS or stanza.ns != ns.CLIENT:
            self.close_with_error("unsupported-stanza-type", f"<{stanza.tag}/> is not a stanza")
            return
        frm = stanza.attrs.get("from")
        if frm is not None and frm != session.full:
            parsed = jids.try_parse(frm)
            if parsed is None or (parsed != session.jid and parsed != session.jid.bare):
                self.close_with_error("invalid-from", "the from address does not match the session")
                return
        stanza.attrs["from"] = session.full
        self._stats.in_by_kind[stanza.tag].value += 1
        if stanza.tag == "iq" and stanza.find("session", ns.SESSION) is not None and "to" not in stanza.attrs:
            self.write(Element("iq", {"type": "result", "id": stanza.get("id") or ""}).to_bytes())
            return
        self._enqueue(stanza)

    async def _end_session(self, session: Session) -> None:
        # Let stanzas already received from this client reach their recipients first.
        worker = self._worker
        if worker is not None and not worker.done():
            try:
                await asyncio.wait_for(asyncio.shield(worker), timeout=10)
            except Exception:
                log.warning("session_drain_incomplete jid=%s", session.full)
        self.server.sessions.remove(session)
        self._stats.sessions_closed.plain.value += 1
        try:
            await self.server.bus.fire("session.closed", session.vhost, session=session)
        except Exception:
            log.exception("session_close_hooks_failed jid=%s", session.full)

    def sweep_idle(self) -> bool:
        """Called periodically: free the parser of a bound session that sent nothing since last time."""
        if self.active or self.session is None or self.closing:
            self.active = False
            return False
        return self.parser.hibernate()

    def check_idle(self, now: float) -> None:
        """XEP-0199 ping a session silent for ``idle_timeout``; close it if nothing comes back in
        ``idle_ping_timeout`` (any bytes count as an answer)."""
        session = self.session
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
            ping = Element("iq", {"type": "get", "id": f"idle-{secrets.token_hex(4)}", "from": self.domain,
                                  "to": session.full})  # fmt: skip
            ping.add("ping", ns=ns.PING)
            self.send_stanza(ping)

    def _pre_auth_expired(self) -> None:
        if self.session is None:
            self.close_with_error("connection-timeout", "no session established in time")

    # -- writing -----------------------------------------------------------
    def send_stanza(self, stanza: Element) -> None:
        counter = self._stats.out_by_kind.get(stanza.tag)
        if counter is not None:
            counter.value += 1
        self.write(stanza.to_bytes())

    def before_stream_error(self) -> None:
        if self._queue is not None:
            self._queue.clear()
        if not self._header_sent:
            self._send_header(None)
