"""Client-to-server stream negotiation as a transport-free state machine (RFC 6120).

Inputs are events from whichever transport carries the stream (TCP today, BOSH and WebSocket
later): :meth:`C2SStream.stream_opened`, :meth:`~C2SStream.stanza_received`,
:meth:`~C2SStream.stream_closed` (the parser's sink events), :meth:`~C2SStream.tls_established` and
:meth:`~C2SStream.transport_closed`. Outputs go through a :class:`StreamTransport`.

States: stream header → features → STARTTLS (optional) → SASL → stream restart → resource bind →
bound. Before login, modules may offer features and answer IQs through the registry (pre-auth,
e.g. XEP-0077 registration). Once bound, every stanza is stamped with the session's full JID and
handed to the router, in order, one at a time.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.core import login_guard
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError, StreamError, error_reply
from tigase_py.server.stream import login, sasl
from tigase_py.server.stream.services import StreamServices, parser_limits
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.stream.transport import StreamTransport

__all__ = ["C2SStream", "StreamServices", "parser_limits"]

log = logging.getLogger("tigase_py.c2s")

MAX_PENDING_STANZAS = 64
STANZA_TAGS = frozenset({"message", "presence", "iq"})


class C2SStream:
    """The negotiation and session of one client stream; the parser's sink and the session's owner."""

    __slots__ = (
        "services", "transport", "secure", "domain", "username", "session", "sasl",
        "_queue", "_worker", "_backlogged",
    )  # fmt: skip

    def __init__(self, services: StreamServices, transport: StreamTransport, secure: bool = False) -> None:
        self.services = services
        self.transport = transport
        self.secure = secure  # direct TLS, or after STARTTLS
        self.domain = ""
        self.username: str | None = None  # set by SASL success
        self.session: Session | None = None  # set by bind
        self.sasl: sasl.SaslExchange | None = None
        self._queue: collections.deque[Element] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._backlogged = False

    @property
    def peer(self) -> str:
        return self.transport.peer

    @property
    def ip(self) -> str:
        return login_guard.peer_ip(self.transport.peer)

    @property
    def login_guard(self) -> login_guard.LoginGuard:
        return self.services.login_guard

    @property
    def may_carry_credentials(self) -> bool:
        """The stream is encrypted, or this listener does not require TLS."""
        return self.secure or not self.services.require_tls

    # -- inputs ---------------------------------------------------------------
    def stream_opened(self, tag: str, namespace: str, attrs: dict[str, str]) -> None:
        to = attrs.get("to")
        self.transport.open_stream(self.domain or to)
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
        if domain not in self.services.vhosts:
            raise StreamError("host-unknown", f"{domain} is not served here")
        if self.domain and domain != self.domain:
            raise StreamError("host-unknown", "the domain changed on stream restart")
        self.domain = domain
        self.transport.write(self.features().to_bytes())

    def stanza_received(self, stanza: Element) -> None:
        if self.session is not None:
            self._accept_bound(stanza)
            return
        self._enqueue(stanza)

    def stream_closed(self) -> None:
        self.transport.close()

    def tls_established(self) -> None:
        self.secure = True

    def transport_closed(self) -> None:
        """The transport is gone: end the session once the stanzas already received are processed."""
        if self.session is not None:
            session, self.session = self.session, None
            self.services.track(self._end_session(session))

    def discard_pending(self) -> None:
        """The stream is closing with an error: what is queued will not be processed."""
        if self._queue is not None:
            self._queue.clear()

    # -- features -------------------------------------------------------------
    def mechanisms(self) -> list[str]:
        auth = self.services.config.auth
        return sasl.offered_mechanisms(auth.mechanisms, self.secure, auth.allow_plain_without_tls)

    def features(self) -> Element:
        services = self.services
        features = Element("stream:features")
        limits = services.config.limits
        if self.username is None:
            if not self.secure and services.starttls:
                starttls = features.add("starttls", ns=ns.TLS)
                if services.require_tls:
                    starttls.add("required")
            if self.may_carry_credentials:
                mechanisms = features.add("mechanisms", ns=ns.SASL)
                for name in self.mechanisms():
                    mechanisms.add("mechanism", text=name)
            if self.secure and services.channel_binding is not None:
                binding = features.add("sasl-channel-binding", ns="urn:xmpp:sasl-cb:0")
                binding.add("channel-binding", {"type": "tls-server-end-point"})
            features.children.extend(services.registry.pre_auth_features(self.domain, self))
        else:
            features.add("bind", ns=ns.BIND)
            features.add("session", ns=ns.SESSION).add("optional")
            features.children.extend(services.registry.stream_features(self.domain, self))
        # XEP-0478: the limits in force on this stream now (pre-auth ones are stricter).
        max_bytes = parser_limits(limits, authenticated=self.username is not None).max_stanza_bytes
        advertised = features.add("limits", ns=ns.STREAM_LIMITS)
        advertised.add("max-bytes", text=str(max_bytes))
        if self.username is not None:
            advertised.add("idle-seconds", text=str(int(limits.idle_timeout)))
        return features

    # -- processing, in order --------------------------------------------------
    def _enqueue(self, stanza: Element) -> None:
        """Queue a stanza for in-order processing; the queue and its worker exist only while busy."""
        queue = self._queue
        if queue is None:
            queue = self._queue = collections.deque()
        queue.append(stanza)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(queue))
        if len(queue) > MAX_PENDING_STANZAS and not self._backlogged:
            self._backlogged = True
            self.transport.hold_input()

    async def _work(self, queue: collections.deque[Element]) -> None:
        transport = self.transport
        transport.begin_processing()
        while queue:
            stanza = queue.popleft()
            try:
                if self.session is None:
                    await self._negotiate(stanza)
                else:
                    await self.services.router.route(stanza, self.session)
            except StreamError as exc:
                transport.close_with_error(exc.condition, exc.text, exc.app_condition)
            except StanzaError as exc:
                transport.write(error_reply(stanza, exc).to_bytes())
            except Exception:
                log.exception("stanza_failed peer=%s", transport.peer)
                if stanza.tag in STANZA_TAGS:
                    transport.write(error_reply(stanza, StanzaError("internal-server-error")).to_bytes())
            if self._backlogged and len(queue) < MAX_PENDING_STANZAS // 2:
                self._backlogged = False
                transport.release_input()
        if self._queue is queue:
            self._queue = None
            self._worker = None

    async def _negotiate(self, stanza: Element) -> None:
        name, namespace = stanza.name, stanza.ns
        if namespace == ns.TLS and name == "starttls":
            return self._start_tls()
        if namespace == ns.SASL and self.username is None:
            return await login.sasl_step(self, stanza)
        if self.username is not None and name == "iq":
            bind = stanza.find("bind", ns.BIND)
            if bind is not None and stanza.get("type") == "set":
                await login.bind(self, stanza, bind)
                return self._bound()
            if stanza.find("session", ns.SESSION) is not None:
                raise StreamError("not-authorized", "bind a resource first")
        payload = stanza.first_child() if self.username is None and name == "iq" else None
        if payload is not None:  # a module may answer it before login (core/preauth.py)
            found = self.services.registry.pre_auth_handler(self.domain, payload.ns, payload.name)
            if found is not None:
                ctx, pre_auth = found
                self.transport.write((await pre_auth.handler(ctx, self, stanza)).to_bytes())
                return None
        if self.username is None and not self.may_carry_credentials:
            raise StreamError("policy-violation", "STARTTLS is required")
        raise StreamError("not-authorized", "authenticate and bind a resource first")

    def _start_tls(self) -> None:
        if self.secure or not self.services.starttls or self.username is not None:
            raise StreamError("policy-violation", "STARTTLS is not available now")
        self.transport.write(Element("proceed", ns=ns.TLS).to_bytes())
        self.transport.start_tls()

    def _bound(self) -> None:
        """Stanzas pipelined behind the bind request are routed now, in order."""
        pending = list(self._queue or ())
        if self._queue is not None:
            self._queue.clear()
        for queued in pending:
            self._accept_bound(queued)

    # -- bound sessions ----------------------------------------------------------
    def _accept_bound(self, stanza: Element) -> None:
        session = self.session
        assert session is not None
        if stanza.tag not in STANZA_TAGS or stanza.ns != ns.CLIENT:
            self.transport.close_with_error("unsupported-stanza-type", f"<{stanza.tag}/> is not a stanza")
            return
        frm = stanza.attrs.get("from")
        if frm is not None and frm != session.full:
            parsed = jids.try_parse(frm)
            if parsed is None or (parsed != session.jid and parsed != session.jid.bare):
                self.transport.close_with_error("invalid-from", "the from address does not match the session")
                return
        stanza.attrs["from"] = session.full
        self.services.stats.in_by_kind[stanza.tag].value += 1
        if stanza.tag == "iq" and stanza.find("session", ns.SESSION) is not None and "to" not in stanza.attrs:
            self.transport.write(Element("iq", {"type": "result", "id": stanza.get("id") or ""}).to_bytes())
            return
        self._enqueue(stanza)

    def idle_ping(self) -> Element:
        """An XEP-0199 ping to the bound client, whose answer shows it is still there."""
        assert self.session is not None
        ping = Element("iq", {"type": "get", "id": f"idle-{secrets.token_hex(4)}", "from": self.domain,
                              "to": self.session.full})  # fmt: skip
        ping.add("ping", ns=ns.PING)
        return ping

    async def _end_session(self, session: Session) -> None:
        # Let stanzas already received from this client reach their recipients first.
        worker = self._worker
        if worker is not None and not worker.done():
            try:
                await asyncio.wait_for(asyncio.shield(worker), timeout=10)
            except Exception:
                log.warning("session_drain_incomplete jid=%s", session.full)
        services = self.services
        services.sessions.remove(session)
        services.stats.sessions_closed.plain.value += 1
        try:
            await services.bus.fire("session.closed", session.vhost, session=session)
        except Exception:
            log.exception("session_close_hooks_failed jid=%s", session.full)
