"""XEP-0160 offline messages: keep chat and normal messages for an account with no available
resource, stamped with XEP-0203 delay, and hand them over when it next sends available presence."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from tigase_py.server.core.events import STOP
from tigase_py.server.core.module import Module, ModuleContext, Spec
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError
from tigase_py.server.stores.offline import OFFLINE
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import FragmentError, parse_fragment

log = logging.getLogger("tigase_py.modules.offline")

STORED_TYPES = ("chat", "normal")
HINTS = "urn:xmpp:hints"
DELIVERED = "offline.delivered"

module = Module(
    name="offline",
    specs=[Spec("XEP-0160", "1.0.1"), Spec("XEP-0203", "2.0")],
    features=[ns.MSGOFFLINE],
    stores=(OFFLINE,),
)


@module.on_start
async def declare_metrics(ctx: ModuleContext) -> None:
    ctx.state["refused"] = ctx.metrics.counter(
        "queue_full", "Messages refused, queue full", "messages bounced because the offline queue was full"
    )


def worth_storing(stanza: Element) -> bool:
    """XEP-0160 section 3 and XEP-0334: messages with content; not chat states alone, not no-store."""
    if stanza.find("no-store", HINTS) is not None or stanza.find("no-permanent-store", HINTS) is not None:
        return False
    if stanza.find("store", HINTS) is not None:
        return True
    return stanza.find("body") is not None or stanza.find("subject") is not None


def stamped(stanza: Element, vhost: str, when: datetime) -> Element:
    clone = stanza.copy()
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    clone.add("delay", {"from": vhost, "stamp": stamp}, ns=ns.DELAY, text="Offline Storage")
    return clone


@module.on("message.offline")
async def store_message(ctx: ModuleContext, stanza: Element, owner: str) -> str | None:
    if stanza.attrs.get("type", "normal") not in STORED_TYPES:
        return None
    if not worth_storing(stanza):
        return STOP  # nothing a later session could use: dropped without bouncing
    limit = ctx.settings.offline_queue_size
    if limit <= 0:
        return None
    kept = stamped(stanza, ctx.vhost, datetime.now(UTC))
    if not await ctx.store(OFFLINE).push(owner, kept.to_str(), limit):
        ctx.state["refused"].plain.value += 1
        raise StanzaError("resource-constraint", "the recipient's offline storage is full")
    return STOP


@module.on("session.presence")
async def deliver_stored(ctx: ModuleContext, session: Session, initial: bool) -> None:
    """Flush the queue on initial presence, or on the first update that makes the priority non-negative."""
    if session.priority < 0 or not session.available:
        return
    if not initial and session.cache.get(DELIVERED):
        return
    session.cache[DELIVERED] = True
    store = ctx.store(OFFLINE)
    rows = await store.fetch(session.bare)
    if not rows:
        return
    delivered: list[int] = []
    for row_id, xml in rows:
        if getattr(session.writer, "closing", False):
            break  # the rest stays queued for the next session
        try:
            session.send(parse_fragment(xml))
        except FragmentError:
            log.warning("offline_unreadable owner=%s id=%d", session.bare, row_id)
        delivered.append(row_id)
    await store.delete(session.bare, delivered)
