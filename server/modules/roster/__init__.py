"""RFC 6121 section 2: roster get, set and remove, roster pushes, and XEP-0237 roster versioning."""

from __future__ import annotations

from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.roster.items import RosterSet, parse_set, render_query
from tigase_py.server.modules.roster.push import push_item
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element


def rosterver_feature(_connection: object) -> Element:
    return Element("ver", ns=ns.ROSTER_VER)


module = Module(
    name="roster",
    specs=[Spec("RFC 6121", section="2"), Spec("XEP-0237", "1.3")],
    stream_features=rosterver_feature,
    stores=(ROSTER,),
)


@module.iq(("get", "set"), ns.ROSTER, "query", to="bare")
async def refuse_foreign_roster(ctx: IqContext) -> Element:
    raise StanzaError("forbidden", "you may only access your own roster")


@module.iq("get", ns.ROSTER, "query", to="self")
async def get_roster(ctx: IqContext) -> Element:
    owner = ctx.user
    if ctx.origin is not None:
        ctx.origin.interested = True
    roster = ctx.store(ROSTER)
    requested = ctx.payload.get("ver")
    version = await roster.get_version(owner)
    if requested is not None and requested == str(version):
        return ctx.result()
    items = await roster.get_items(owner)
    return ctx.result(render_query(items, version))


@module.iq("set", ns.ROSTER, "query", to="self")
async def set_roster(ctx: IqContext) -> Element:
    owner = ctx.user
    request = parse_set(ctx.payload, owner)
    if request.remove:
        await remove_contact(ctx, owner, request)
    else:
        existing = await ctx.store(ROSTER).get_item(owner, request.jid)
        base = existing or RosterItem(jid=request.jid)
        item = RosterItem(
            jid=request.jid,
            name=request.name or "",  # "" (not None) marks an item the user created
            subscription=base.subscription,
            ask=base.ask,
            pending_in=base.pending_in,
            approved=base.approved,
            groups=request.groups,
        )
        version = await ctx.store(ROSTER).put_item(owner, item)
        push_item(ctx.module.sessions, owner, item, version)
        await ctx.module.fire("roster.changed", owner=owner, item=item, version=version)
    return ctx.result()


async def remove_contact(ctx: IqContext, owner: str, request: RosterSet) -> None:
    """RFC 6121 2.5.2: cancel subscriptions both ways, decline pending requests, then push the removal."""
    roster = ctx.store(ROSTER)
    item = await roster.get_item(owner, request.jid)
    if item is None:
        raise StanzaError("item-not-found", "no such roster item")
    version = await roster.remove_item(owner, request.jid)
    sessions = ctx.module.sessions
    if item.subscription in ("from", "both"):
        for session in sessions.resources(owner):
            if session.available:
                await ctx.route(Element("presence", {"type": "unavailable", "from": session.full, "to": item.jid}))
    if item.subscription in ("to", "both") or item.ask:
        await ctx.route(Element("presence", {"type": "unsubscribe", "from": owner, "to": item.jid}))
    if item.subscription in ("from", "both") or item.pending_in:
        await ctx.route(Element("presence", {"type": "unsubscribed", "from": owner, "to": item.jid}))
    push_item(sessions, owner, item, version, remove=True)
    await ctx.module.fire("roster.changed", owner=owner, item=item, version=version)
