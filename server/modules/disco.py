"""XEP-0030: Service Discovery — the server's and accounts' identities and features."""

from __future__ import annotations

from tigase_py.server.core.module import Identity, IqContext, Module, Spec
from tigase_py.server.errors import StanzaError
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

SERVER_IDENTITY = Identity("server", "im", "tigase-py")
ACCOUNT_IDENTITY = Identity("account", "registered")

module = Module(
    name="disco",
    specs=[Spec("XEP-0030", "2.5rc3")],
    features=[ns.DISCO_INFO, ns.DISCO_ITEMS],
    account_features=[ns.DISCO_INFO, ns.DISCO_ITEMS],
)


def info_query(identities: list[Identity], features: list[str], node: str | None = None) -> Element:
    """A disco#info ``<query/>`` listing ``identities`` and the sorted, de-duplicated ``features``."""
    query = Element("query", ns=ns.DISCO_INFO)
    if node:
        query.attrs["node"] = node
    for identity in identities:
        attrs = {"category": identity.category, "type": identity.type}
        if identity.name:
            attrs["name"] = identity.name
        query.add("identity", attrs)
    for feature in sorted(set(features)):
        query.add("feature", {"var": feature})
    return query


def refuse_node(ctx: IqContext) -> None:
    """No module publishes disco nodes yet: any ``node`` is unknown."""
    if ctx.payload.get("node"):
        raise StanzaError("item-not-found", "unknown disco node")


@module.iq("get", ns.DISCO_INFO, "query", to="server")
async def server_info(ctx: IqContext) -> Element:
    refuse_node(ctx)
    registry = ctx.module.features
    vhost = ctx.module.vhost
    identities = [SERVER_IDENTITY, *registry.identities(vhost)]
    features = [ns.DISCO_INFO, ns.DISCO_ITEMS, *registry.features(vhost)]
    return ctx.result(info_query(identities, features))


@module.iq("get", ns.DISCO_INFO, "query", to=("self", "bare"))
async def account_info(ctx: IqContext) -> Element:
    refuse_node(ctx)
    if ctx.sender.bare != ctx.to.bare:
        # Others learn only that the account exists (the router checked that it does).
        return ctx.result(info_query([ACCOUNT_IDENTITY], [ns.DISCO_INFO]))
    registry = ctx.module.features
    features = [ns.DISCO_INFO, ns.DISCO_ITEMS, *registry.features(ctx.module.vhost, account=True)]
    return ctx.result(info_query([ACCOUNT_IDENTITY], features))


@module.iq("get", ns.DISCO_ITEMS, "query", to=("server", "self", "bare"))
async def items(ctx: IqContext) -> Element:
    refuse_node(ctx)
    return ctx.result(Element("query", ns=ns.DISCO_ITEMS))
