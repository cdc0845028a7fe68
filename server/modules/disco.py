"""XEP-0030: Service Discovery — the server's, accounts' and hosted services' identities, features and items.

What other modules declared answers here: their features and identities (``Module(features=...)``),
their hosted services (``Module(service=...)``, listed in the vhost's disco#items and answering
disco#info with their own identities and features), and their node providers
(``@module.disco_info`` / ``@module.disco_items``, core/disco_providers.py). disco#items pages with
XEP-0059 when the request carries a ``<set/>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from tigase_py.server.core.disco_providers import (
    DiscoInfo,
    DiscoItem,
    DiscoRequest,
    ItemsPage,
    PageRequest,
    parse_page,
    result_set,
    slice_items,
)
from tigase_py.server.core.module import Identity, IqContext, Module, Spec
from tigase_py.server.errors import StanzaError
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.core.capabilities import FeatureView

SERVER_IDENTITY = Identity("server", "im", "tigase-py")
ACCOUNT_IDENTITY = Identity("account", "registered")

module = Module(
    name="disco",
    specs=[Spec("XEP-0030", "2.5rc3"), Spec("XEP-0059", "1.0.0", status="partial")],
    features=[ns.DISCO_INFO, ns.DISCO_ITEMS],
    account_features=[ns.DISCO_INFO, ns.DISCO_ITEMS],
)


def info_query(
    identities: Iterable[Identity], features: Iterable[str], node: str | None = None, extensions: Iterable[Element] = ()
) -> Element:
    """A disco#info ``<query/>`` listing ``identities`` and the sorted, de-duplicated ``features``."""
    query = Element("query", ns=ns.DISCO_INFO)
    if node:
        query.attrs["node"] = node
    seen: set[Identity] = set()
    for identity in identities:
        if identity in seen:
            continue
        seen.add(identity)
        attrs = {"category": identity.category, "type": identity.type}
        if identity.name:
            attrs["name"] = identity.name
        query.add("identity", attrs)
    for feature in sorted(set(features)):
        query.add("feature", {"var": feature})
    for extension in extensions:
        query.append(extension)
    return query


def registry_of(ctx: IqContext) -> FeatureView:
    return ctx.module.features


def request_of(ctx: IqContext, on: str) -> DiscoRequest:
    return DiscoRequest(ctx.sender, ctx.to, ctx.payload.get("node") or "", on)


async def provided_info(ctx: IqContext, request: DiscoRequest) -> list[DiscoInfo]:
    """What every provider for the queried JID says (those returning None know nothing of it)."""
    found: list[DiscoInfo] = []
    providers = registry_of(ctx).disco_providers(ctx.module.vhost, "info", request.on, ctx.to.domain)
    for provider_ctx, provider in providers:
        info = await provider(provider_ctx, request)
        if info is not None:
            found.append(info)
            if request.node:
                break  # a node has one owner: the first provider that knows it
    return found


async def answer_info(
    ctx: IqContext, request: DiscoRequest, identities: Sequence[Identity], features: Sequence[str]
) -> Element:
    """Own ``identities``/``features`` (node ""), merged with the providers'; a node nobody knows is
    item-not-found, and so is a JID with nothing to say."""
    provided = await provided_info(ctx, request)
    if request.node or not identities:
        identities, features = [], []
        if not provided:
            raise StanzaError("item-not-found", "unknown disco node" if request.node else "no such entity")
    all_identities = [*identities, *(i for info in provided for i in info.identities)]
    all_features = [*features, *(f for info in provided for f in info.features)]
    extensions = [e for info in provided for e in info.extensions]
    return ctx.result(info_query(all_identities, all_features, request.node, extensions))


@module.iq("get", ns.DISCO_INFO, "query", to="server")
async def server_info(ctx: IqContext) -> Element:
    registry = registry_of(ctx)
    vhost = ctx.module.vhost
    identities = [SERVER_IDENTITY, *registry.identities(vhost)]
    features = [ns.DISCO_INFO, ns.DISCO_ITEMS, *registry.features(vhost)]
    return await answer_info(ctx, request_of(ctx, "server"), identities, features)


@module.iq("get", ns.DISCO_INFO, "query", to=("self", "bare"))
async def account_info(ctx: IqContext) -> Element:
    request = request_of(ctx, "account")
    if ctx.sender.bare != ctx.to.bare:
        # Others learn only that the account exists (the router checked that it does).
        return await answer_info(ctx, request, [ACCOUNT_IDENTITY], [ns.DISCO_INFO])
    features = [ns.DISCO_INFO, ns.DISCO_ITEMS, *registry_of(ctx).features(ctx.module.vhost, account=True)]
    return await answer_info(ctx, request, [ACCOUNT_IDENTITY], features)


@module.iq("get", ns.DISCO_INFO, "query", to=("service", "service_node"))
async def service_info(ctx: IqContext) -> Element:
    """disco#info of a hosted service (its declared identities and features) or of a JID under it."""
    service = registry_of(ctx).hosted_service(ctx.to.domain)
    if service is None:
        raise StanzaError("service-unavailable")
    if ctx.to.local:
        return await answer_info(ctx, request_of(ctx, "service_node"), [], [])
    declared = service.declaration
    identities = list(declared.identities) or [Identity("component", "generic", service.name)]
    features = [ns.DISCO_INFO, ns.DISCO_ITEMS, *declared.features]
    return await answer_info(ctx, request_of(ctx, "service"), identities, features)


def services_list(ctx: IqContext) -> list[DiscoItem]:
    """The vhost's hosted services, as its disco#items lists them."""
    return [DiscoItem(b.domain, name=b.name) for b in registry_of(ctx).hosted_services(ctx.module.vhost)]


async def collect_items(ctx: IqContext, request: DiscoRequest, page: PageRequest) -> ItemsPage | None:
    """Every provider's items for the query, as one page; None when nobody knows the node."""
    own = services_list(ctx) if request.on == "server" and not request.node else []
    pages: list[ItemsPage] = []
    providers = registry_of(ctx).disco_providers(ctx.module.vhost, "items", request.on, ctx.to.domain)
    for provider_ctx, provider in providers:
        answer = await provider(provider_ctx, request, page)
        if answer is None:
            continue
        pages.append(answer if isinstance(answer, ItemsPage) else ItemsPage(tuple(answer)))
    if not pages and request.node:
        return None
    if len(pages) == 1 and pages[0].is_paged and not own:
        return pages[0]  # the provider paged its own list (from its store)
    items = [*own, *(item for p in pages for item in p.items)]
    return slice_items(items, page) if page.is_requested else ItemsPage(tuple(items))


@module.iq("get", ns.DISCO_ITEMS, "query", to=("server", "self", "bare", "service", "service_node"))
async def items(ctx: IqContext) -> Element:
    if ctx.to.domain != ctx.module.vhost:
        on = "service_node" if ctx.to.local else "service"
    else:
        on = "server" if ctx.to.is_domain else "account"
    request = request_of(ctx, on)
    page_request = parse_page(ctx.payload)
    page = await collect_items(ctx, request, page_request)
    if page is None:
        raise StanzaError("item-not-found", "unknown disco node")
    query = Element("query", ns=ns.DISCO_ITEMS)
    if request.node:
        query.attrs["node"] = request.node
    for item in page.items:
        attrs = {"jid": item.jid}
        if item.node:
            attrs["node"] = item.node
        if item.name:
            attrs["name"] = item.name
        query.add("item", attrs)
    if page_request.is_requested:
        query.append(result_set(page))
    return ctx.result(query)
