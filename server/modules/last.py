"""XEP-0012: Last Activity — server uptime, and how long ago an account's last session ended."""

from __future__ import annotations

import time

from tigase_py.server.core.module import IqContext, Module, ModuleContext, Spec
from tigase_py.server.core.session import Session
from tigase_py.server.errors import StanzaError
from tigase_py.server.stores.last_activity import LAST_ACTIVITY
from tigase_py.server.stores.roster import ROSTER
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

ALLOWED_SUBSCRIPTIONS = frozenset({"from", "both"})

module = Module(
    name="last",
    specs=[Spec("XEP-0012", "2.0")],
    features=[ns.LAST],
    account_features=[ns.LAST],
    stores=(LAST_ACTIVITY,),
)


def last_query(seconds: int, status: str = "") -> Element:
    query = Element("query", {"seconds": str(max(0, seconds))}, ns=ns.LAST)
    if status:
        query.children.append(status)
    return query


STATUS_KEY = "last_unavailable_status"


def closing_status(session: Session) -> str:
    """The status text of the session's final unavailable presence, if it sent one."""
    noted = session.cache.get(STATUS_KEY)
    if isinstance(noted, str):
        return noted
    presence = session.presence
    if presence is None or presence.get("type") != "unavailable":
        return ""
    return presence.find_text("status") or ""


@module.fold("stanza.outbound", kinds=("presence",))
async def note_unavailable(ctx: ModuleContext, stanza: Element, session: Session) -> Element:
    """Remember the status of a broadcast unavailable presence for the logout record."""
    if stanza.tag == "presence" and stanza.get("type") == "unavailable" and "to" not in stanza.attrs:
        session.cache[STATUS_KEY] = stanza.find_text("status") or ""
    return stanza


@module.iq("get", ns.LAST, "query", to="server")
async def server_uptime(ctx: IqContext) -> Element:
    return ctx.result(last_query(int(time.time() - ctx.module.settings.started_at)))


async def may_see(ctx: IqContext, owner: str, requester: str) -> bool:
    if requester == owner:
        return True
    item = await ctx.store(ROSTER).get_item(owner, requester)
    return item is not None and item.subscription in ALLOWED_SUBSCRIPTIONS


@module.iq("get", ns.LAST, "query", to=("self", "bare"))
async def account_last(ctx: IqContext) -> Element:
    owner = ctx.to.bare_str
    if not await may_see(ctx, owner, ctx.sender.bare_str):
        raise StanzaError("forbidden", "not subscribed to this account's presence")
    if ctx.module.sessions_of(owner):
        return ctx.result(last_query(0))
    record = await ctx.store(LAST_ACTIVITY).get(owner)
    if record is None:
        raise StanzaError("item-not-found", "no activity recorded")
    seconds, status = record
    return ctx.result(last_query(int(time.time()) - seconds, status))


@module.on("session.closed")
async def record_logout(ctx: ModuleContext, session: Session) -> None:
    if ctx.sessions.has_resources(session.bare):
        return
    await ctx.store(LAST_ACTIVITY).set(session.bare, int(time.time()), closing_status(session))
