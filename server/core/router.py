"""Stanza routing per RFC 6120 section 10 and RFC 6121 section 8.

``route`` takes a stanza from a local client session (``from`` already stamped); ``deliver`` takes
any stanza with ``from`` set and brings it to its recipient: a session, a module handler acting for
the server, for an account or for a hosted service (``pubsub.<vhost>``, see core/services.py),
offline storage, or an error bounced to the sender. Handler errors are
turned into wire errors here and nowhere else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, cast

from tigase_py.server import jid as jids
from tigase_py.server.core.events import DROP, STOP
from tigase_py.server.core.module import IqContext, IqHandler, ModuleContext, PresenceHandler, StanzaContext
from tigase_py.server.core.service_routing import ServiceRouting
from tigase_py.server.errors import StanzaError, error_reply
from tigase_py.server.jid import Jid
from tigase_py.server.storage.errors import StorageError

if TYPE_CHECKING:
    from tigase_py.server.core.events import EventBus
    from tigase_py.server.core.session import Session, SessionManager
    from tigase_py.server.core.stats import CoreMetrics
    from tigase_py.server.xml.element import Element

log = logging.getLogger("tigase_py.router")

IqTableKey = tuple[str, str, str, str, str]  # vhost, type, addressing, ns, element


def storage_down(stanza: Element, exc: StorageError) -> StanzaError:
    """The reply to a stanza whose handling needed the database, which failed or did not answer in time.

    RFC 6120 §8.3.3.5 internal-server-error with type "wait" (§8.3.2: retry after waiting): the
    request was fine and may succeed later. Not service-unavailable, which tells clients the service
    does not exist, nor resource-constraint, which is about load.
    """
    log.warning("storage_failed kind=%s id=%s reason=%s", stanza.tag, stanza.attrs.get("id"), exc)
    return StanzaError("internal-server-error", "storage is temporarily unavailable", "wait")


class Router:
    """Takes what it needs explicitly: sessions, the event bus, the core metrics, the live set of served
    vhosts and an account-existence check."""

    def __init__(
        self,
        sessions: SessionManager,
        bus: EventBus,
        stats: CoreMetrics,
        vhosts: Collection[str],
        user_exists: Callable[[str], Awaitable[bool]],
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.stats = stats
        self.vhosts = vhosts
        self.user_exists = user_exists
        self.iq_handlers: dict[IqTableKey, tuple[IqHandler, ModuleContext]] = {}
        self.presence_handlers: dict[tuple[str, str], tuple[PresenceHandler, ModuleContext]] = {}
        self.to_services = ServiceRouting(self)
        self.services = self.to_services.table  # the hosted service domains served now
        self.routed = 0

    # -- registration (used by the module registry) ---------------------
    def add_iq(self, key: IqTableKey, handler: IqHandler, ctx: ModuleContext) -> None:
        if key in self.iq_handlers:
            raise ValueError(f"IQ handler already registered for {key}")
        self.iq_handlers[key] = (handler, ctx)

        def undo() -> None:
            self.iq_handlers.pop(key, None)

        ctx.add_undo(undo)

    def add_presence(self, vhost: str, direction: str, handler: PresenceHandler, ctx: ModuleContext) -> None:
        key = (vhost, direction)
        self.presence_handlers[key] = (handler, ctx)

        def undo() -> None:
            self.presence_handlers.pop(key, None)

        ctx.add_undo(undo)

    # -- entry points ---------------------------------------------------
    async def route(self, stanza: Element, session: Session) -> None:
        """Handle a stanza sent by a local client session."""
        self.routed += 1
        tag = stanza.tag
        self.stats.routed_by_kind[tag].value += 1
        folders = self.bus.folders("stanza.outbound", session.vhost, tag)
        if folders:
            # The fold loop runs inline: one coroutine less per handler on the hottest path.
            value: Any = stanza
            try:
                for folder in folders:
                    value = await folder(value, session=session)
                    if value is DROP:
                        return
            except StanzaError as error:
                self.bounce(stanza, error)
                return
            except StorageError as exc:
                self.bounce(stanza, storage_down(stanza, exc))
                return
        if tag == "presence":
            entry = self.presence_handlers.get((session.vhost, "outbound"))
            if entry is not None:
                handler, ctx = entry
                await self._call_presence(handler, ctx, stanza, session.jid, session.jid, session)
                return
            if "to" not in stanza.attrs:
                return
        await self.deliver(stanza, session)

    async def deliver(self, stanza: Element, origin: Session | None = None) -> None:
        """Bring a stanza with ``from`` set to its recipient."""
        attrs = stanza.attrs
        sender = jids.try_parse(attrs.get("from"))
        if sender is None:
            log.warning("dropping stanza without a valid from: %s", stanza.to_str()[:200])
            return
        to_text = attrs.get("to")
        if to_text is None:
            to = sender.bare
        else:
            try:
                to = jids.parse(to_text)
            except jids.JidError:
                self.bounce(stanza, StanzaError("jid-malformed", "invalid 'to' address"))
                return
        service = None
        if to.domain not in self.vhosts:
            service = self.services.get(to.domain)
            if service is None:
                # RFC 6120 §8.3.3.16: a domain we neither serve nor can reach (no s2s yet).
                if stanza.tag != "presence":
                    self.bounce(stanza, StanzaError("remote-server-not-found", f"no route to {to.domain}"))
                return
        tag = stanza.tag
        try:
            if service is not None:
                await self.to_services.deliver(stanza, sender, to, service, origin)
            elif tag == "message":
                await self._deliver_message(stanza, sender, to)
            elif tag == "iq":
                await self._deliver_iq(stanza, sender, to, origin)
            else:
                await self._deliver_presence(stanza, sender, to)
        except StanzaError as error:
            self.bounce(stanza, error)
        except StorageError as exc:
            self.bounce(stanza, storage_down(stanza, exc))

    def bounce(self, stanza: Element, error: StanzaError) -> None:
        """Send an error reply for ``stanza`` to its sender (never for errors or IQ results)."""
        stanza_type = stanza.attrs.get("type")
        if stanza_type == "error" or (stanza.tag == "iq" and stanza_type == "result"):
            return
        if stanza.tag == "presence":
            return
        sender = jids.try_parse(stanza.attrs.get("from"))
        if sender is None:
            return
        self.stats.bounced.labels(error.condition).value += 1
        reply = error_reply(stanza, error)
        if "from" not in reply.attrs:
            reply.attrs["from"] = sender.domain
        session = self.sessions.get(sender)
        if session is not None:
            session.send(reply)
        elif sender.domain in self.services:
            self.to_services.return_error(reply)

    # -- local delivery -------------------------------------------------
    async def _filter(self, stanza: Element, owner: str, vhost: str) -> Element | None:
        value: Any = stanza
        for folder in self.bus.folders("stanza.deliver", vhost, stanza.tag):
            value = await folder(value, owner=owner)
            if value is DROP:
                return None
        return cast("Element", value)

    async def _deliver_message(self, stanza: Element, sender: Jid, to: Jid) -> None:
        sessions = self.sessions
        msg_type = stanza.attrs.get("type", "normal")
        if to.is_domain:
            if msg_type not in ("error", "headline"):
                raise StanzaError("service-unavailable")
            return
        owner = to.bare_str
        if await self._filter(stanza, owner, to.domain) is None:
            return
        if to.resource:
            session = sessions.get(to)
            if session is not None:
                session.send(stanza)
                return
            if msg_type in ("error", "headline"):
                return
            if msg_type == "groupchat":
                raise StanzaError("service-unavailable")
        if msg_type == "groupchat":
            raise StanzaError("service-unavailable")
        targets = [s for s in sessions.resources(owner) if s.available and s.priority >= 0]
        if targets:
            if msg_type != "headline":
                top = max(s.priority for s in targets)
                targets = [s for s in targets if s.priority == top]
            for session in targets:
                session.send(stanza)
            return
        if msg_type in ("error", "headline"):
            return
        if not await self.user_exists(owner):
            raise StanzaError("service-unavailable")
        stored = await self.bus.fire("message.offline", to.domain, stanza=stanza, owner=owner)
        if not stored:
            raise StanzaError("service-unavailable")
        self.stats.offline_stored.plain.value += 1

    async def _deliver_iq(self, stanza: Element, sender: Jid, to: Jid, origin: Session | None) -> None:
        iq_type = stanza.attrs.get("type")
        if iq_type not in ("get", "set", "result", "error"):
            raise StanzaError("bad-request", "invalid IQ type")
        if "id" not in stanza.attrs:
            raise StanzaError("bad-request", "IQ without id")
        request = iq_type in ("get", "set")
        if to.resource:
            if await self._filter(stanza, to.bare_str, to.domain) is None:
                if request:
                    raise StanzaError("service-unavailable")
                return
            session = self.sessions.get(to)
            if session is not None:
                session.send(stanza)
            elif request:
                raise StanzaError("service-unavailable")
            return
        if not request:
            return
        children = [c for c in stanza.children if not isinstance(c, str)]
        if len(children) != 1:
            raise StanzaError("bad-request", "an IQ request needs exactly one payload")
        payload = children[0]
        if to.is_domain:
            addressing = "server"
        elif to.bare == sender.bare:
            addressing = "self"
        else:
            addressing = "bare"
            if await self._filter(stanza, to.bare_str, to.domain) is None:
                raise StanzaError("service-unavailable")
            if not await self.user_exists(to.bare_str):
                raise StanzaError("service-unavailable")
        entry = self.iq_handlers.get((to.domain, iq_type, addressing, payload.ns, payload.name))
        if entry is None:
            raise StanzaError("service-unavailable")
        await self.call_iq(entry, stanza, sender, to, origin, addressing)

    async def call_iq(
        self,
        entry: tuple[IqHandler, ModuleContext],
        stanza: Element,
        sender: Jid,
        to: Jid,
        origin: Session | None,
        addressing: str,
    ) -> None:
        """Run an IQ handler; its reply is delivered, its failure becomes a wire error (logged by key)."""
        handler, ctx = entry
        context = IqContext(ctx, stanza, sender, to, origin)
        stats = self.stats
        started = time.perf_counter()
        try:
            reply = await handler(context)
        except StanzaError:
            raise
        except StorageError:
            stats.handler_errors.labels(ctx.module.name).value += 1
            raise
        except Exception:
            stats.handler_errors.labels(ctx.module.name).value += 1
            payload = stanza.first_child()
            key = f"iq-{stanza.attrs.get('type')}/{addressing}/{payload.ns}:{payload.name}" if payload else addressing
            log.exception("handler_failed key=%s id=%s from=%s", key, stanza.attrs.get("id"), sender)
            raise StanzaError("internal-server-error") from None
        finally:
            stats.handler_latency.dist(ctx.module.name).observe(time.perf_counter() - started)
        if reply is not None:
            await self.deliver(reply)

    async def _deliver_presence(self, stanza: Element, sender: Jid, to: Jid) -> None:
        if to.is_domain:
            return
        entry = self.presence_handlers.get((to.domain, "inbound"))
        if entry is not None:
            handler, ctx = entry
            await self._call_presence(handler, ctx, stanza, sender, to, None)
            return
        if await self._filter(stanza, to.bare_str, to.domain) is None:
            return
        if to.resource:
            session = self.sessions.get(to)
            if session is not None:
                session.send(stanza)
            return
        for session in self.sessions.resources(to.bare_str):
            if session.available:
                session.send(stanza)

    async def _call_presence(
        self, handler: PresenceHandler, ctx: ModuleContext, stanza: Element, sender: Jid, to: Jid, origin: Any
    ) -> None:
        try:
            await handler(StanzaContext(ctx, stanza, sender, to, origin))
        except StanzaError:
            raise
        except StorageError as exc:
            log.warning("presence_handler_storage_failed module=%s from=%s reason=%s", ctx.module.name, sender, exc)
        except Exception:
            log.exception("presence_handler_failed module=%s from=%s", ctx.module.name, sender)

    async def deliver_to_available(self, stanza: Element, owner: str) -> int:
        """Send ``stanza`` to every available resource of a local account; return how many."""
        count = 0
        for session in self.sessions.resources(owner):
            if session.available:
                session.send(stanza)
                count += 1
        return count


__all__ = ["Router", "STOP"]
