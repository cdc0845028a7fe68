"""Delivery to hosted services (``pubsub.<vhost>``, see core/services.py), for the router.

A stanza whose ``to`` is a served service domain, ``node@`` it, or a full JID under it goes to the
module that runs the service:

- IQ: the handler keyed ``(service domain, type, addressing, ns, element)`` with addressing
  ``service`` / ``service_node`` / ``service_full``, else the service's ``"*"`` handler for that
  addressing, else a handler of a module without a service of its own keyed on the vhost (that is how
  the disco module answers disco#info/#items of every service). No handler: ``service-unavailable``
  for get/set (RFC 6120 §8.3.3.19), nothing for result/error.
- message / presence: the module's ``@module.message("service")`` / ``@module.presence("service")``
  handler; without one a message is answered ``service-unavailable`` (not errors or headlines) and a
  presence is dropped.

Errors bounced to a service (it sent to someone who is not there) are delivered back to it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

from tigase_py.server.core.module import ModuleContext, ServiceStanzaHandler, StanzaContext
from tigase_py.server.core.services import ServiceBinding, ServiceTable
from tigase_py.server.errors import StanzaError
from tigase_py.server.storage.errors import StorageError

if TYPE_CHECKING:
    from tigase_py.server.core.router import Router
    from tigase_py.server.core.session import Session
    from tigase_py.server.jid import Jid
    from tigase_py.server.xml.element import Element

log = logging.getLogger("tigase_py.router")


class ServiceRouting:
    def __init__(self, router: Router) -> None:
        self.router = router
        self.table = ServiceTable()
        self.handlers: dict[tuple[str, str], tuple[ServiceStanzaHandler, ModuleContext]] = {}
        self.returning: set[asyncio.Task[None]] = set()

    def add_stanza_handler(self, domain: str, kind: str, handler: ServiceStanzaHandler, ctx: ModuleContext) -> None:
        """Messages or presence (``kind``) to the service ``domain`` or any JID under it; undone with ctx."""
        self.handlers[(domain, kind)] = (handler, ctx)
        ctx.add_undo(functools.partial(self._forget, (domain, kind)))

    def _forget(self, key: tuple[str, str]) -> None:
        self.handlers.pop(key, None)

    async def deliver(
        self, stanza: Element, sender: Jid, to: Jid, service: ServiceBinding, origin: Session | None
    ) -> None:
        tag = stanza.tag
        stanza_type = stanza.attrs.get("type")
        if tag != "iq":
            entry = self.handlers.get((to.domain, tag))
            if entry is not None:
                await self._call(entry, stanza, sender, to, origin)
            elif tag == "message" and stanza_type not in ("error", "headline"):
                raise StanzaError("service-unavailable")
            return
        if stanza_type not in ("get", "set", "result", "error"):
            raise StanzaError("bad-request", "invalid IQ type")
        if "id" not in stanza.attrs:
            raise StanzaError("bad-request", "IQ without id")
        request = stanza_type in ("get", "set")
        children = [c for c in stanza.children if not isinstance(c, str)]
        if request and len(children) != 1:
            raise StanzaError("bad-request", "an IQ request needs exactly one payload")
        namespace, name = (children[0].ns, children[0].name) if children else ("", "")
        addressing = "service_full" if to.resource else "service_node" if to.local else "service"
        handlers = self.router.iq_handlers
        iq_entry = (
            handlers.get((to.domain, stanza_type, addressing, namespace, name))
            or handlers.get((to.domain, stanza_type, addressing, "*", "*"))
            or handlers.get((service.vhost, stanza_type, addressing, namespace, name))
        )
        if iq_entry is None:
            if request:
                raise StanzaError("service-unavailable")
            return
        await self.router.call_iq(iq_entry, stanza, sender, to, origin, addressing)

    async def _call(
        self, entry: tuple[ServiceStanzaHandler, ModuleContext], stanza: Element, sender: Jid, to: Jid, origin: Any
    ) -> None:
        handler, ctx = entry
        try:
            reply = await handler(StanzaContext(ctx, stanza, sender, to, origin))
        except (StanzaError, StorageError):
            raise
        except Exception:
            log.exception("service_handler_failed module=%s kind=%s from=%s", ctx.module.name, stanza.tag, sender)
            raise StanzaError("internal-server-error") from None
        if reply is not None:
            await self.router.deliver(reply)

    def return_error(self, reply: Element) -> None:
        """Give an error bounced to a service back to it (never answered again: it is type error).

        ``bounce`` is synchronous, so the delivery runs as a task, kept here until it is done."""
        task = asyncio.get_running_loop().create_task(self.router.deliver(reply))
        self.returning.add(task)
        task.add_done_callback(self._returned)

    def _returned(self, task: asyncio.Task[None]) -> None:
        self.returning.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("service_error_return_failed", exc_info=task.exception())
