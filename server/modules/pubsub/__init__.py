"""XEP-0060 Publish-Subscribe on ``pubsub.<vhost>``: leaf nodes, items, subscriptions, affiliations.

The request's first child (``<create/>``, ``<publish/>``, ...) picks the use case; what is not listed
is refused with feature-not-implemented naming the unsupported feature. Not enabled by default:
add ``"pubsub"`` to ``[modules] enabled``. README.md "PubSub" lists what is and is not supported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tigase_py.server.core.disco_providers import DiscoInfo, DiscoItem, DiscoRequest, ItemsPage, PageRequest
from tigase_py.server.core.module import Identity, IqContext, ModuleContext, StanzaContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub import authorize, items, owner, subscriptions
from tigase_py.server.modules.pubsub.declaration import NS_OWNER, NS_PUBSUB, module
from tigase_py.server.modules.pubsub.errors import unsupported
from tigase_py.server.modules.pubsub.node_config import meta_data_form, with_defaults
from tigase_py.server.stores.pubsub import PUBSUB
from tigase_py.server.xml import forms
from tigase_py.server.xml.element import Element

__all__ = ["module"]

UseCase = Callable[[IqContext, Element], Awaitable[Element]]

USER_SET: dict[str, UseCase] = {
    "create": owner.create,
    "publish": items.publish,
    "retract": items.retract,
    "subscribe": subscriptions.subscribe,
    "unsubscribe": subscriptions.unsubscribe,
}
USER_GET: dict[str, UseCase] = {
    "items": items.retrieve,
    "subscriptions": subscriptions.own_subscriptions,
    "affiliations": subscriptions.own_affiliations,
}
OWNER_GET: dict[str, UseCase] = {
    "configure": owner.configure_get,
    "default": owner.default_get,
    "affiliations": owner.affiliations_get,
    "subscriptions": owner.subscriptions_get,
}
OWNER_SET: dict[str, UseCase] = {
    "configure": owner.configure_set,
    "delete": owner.delete,
    "purge": owner.purge,
    "affiliations": owner.affiliations_set,
    "subscriptions": owner.subscriptions_set,
}
# What XEP-0060 names a feature for; the request is refused naming it.
FEATURE_OF = {"options": "subscription-options", "default": "subscription-options"}


async def _dispatch(ctx: IqContext, table: dict[str, UseCase], namespace: str) -> Element:
    actions = [child for child in ctx.payload.elements() if child.ns == namespace]
    if not actions:
        raise StanzaError("bad-request", "the request names no action")
    action = actions[0]
    use_case = table.get(action.name)
    if use_case is None:
        raise unsupported(FEATURE_OF.get(action.name, action.name))
    return await use_case(ctx, action)


@module.iq("set", NS_PUBSUB, "pubsub", to="service")
async def user_set(ctx: IqContext) -> Element:
    return await _dispatch(ctx, USER_SET, NS_PUBSUB)


@module.iq("get", NS_PUBSUB, "pubsub", to="service")
async def user_get(ctx: IqContext) -> Element:
    return await _dispatch(ctx, USER_GET, NS_PUBSUB)


@module.iq("get", NS_OWNER, "pubsub", to="service")
async def owner_get(ctx: IqContext) -> Element:
    return await _dispatch(ctx, OWNER_GET, NS_OWNER)


@module.iq("set", NS_OWNER, "pubsub", to="service")
async def owner_set(ctx: IqContext) -> Element:
    return await _dispatch(ctx, OWNER_SET, NS_OWNER)


@module.message("service")
async def owner_decision(ctx: StanzaContext) -> Element | None:
    """A message to the service: an owner's answer to a subscription authorization form (8.6)."""
    if ctx.stanza.attrs.get("type") != "error":
        await authorize.answer_form(ctx)
    return None


@module.disco_info(on="service")
async def node_info(ctx: ModuleContext, request: DiscoRequest) -> DiscoInfo | None:
    """disco#info on a node: a leaf with the ``pubsub#meta-data`` form (XEP-0060 5.3, 5.4)."""
    if not request.node:
        return None
    record = await ctx.store(PUBSUB).get_node(request.target.domain, request.node)
    if record is None:
        return None
    title = str(with_defaults(record.config)["title"])
    extension = forms.build(meta_data_form(record.config, record.owner))
    return DiscoInfo([Identity("pubsub", "leaf", title)], [NS_PUBSUB], [extension])


@module.disco_items(on="service")
async def node_items(
    ctx: ModuleContext, request: DiscoRequest, page: PageRequest
) -> ItemsPage | list[DiscoItem] | None:
    """The service's nodes, paged in the store (XEP-0059); on a node, its item ids (XEP-0060 5.5)."""
    pubsub, service = ctx.store(PUBSUB), request.target.domain
    if request.node:
        record = await pubsub.get_node(service, request.node)
        if record is None:
            return None
        return [DiscoItem(service, name=item.item_id) for item in await pubsub.items(service, request.node)]
    if page.before is not None or page.index is not None:
        names, total = await pubsub.list_nodes(service, None, None)
        return ItemsPage([DiscoItem(service, name) for name in names])  # disco slices the whole list
    names, total = await pubsub.list_nodes(service, page.after, page.max)
    found = [DiscoItem(service, name) for name in names]
    first, last = (names[0], names[-1]) if names else (None, None)
    return ItemsPage(found, is_paged=page.is_requested, first=first, last=last, count=total)
