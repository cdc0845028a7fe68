"""Who may do what on a node: affiliations (XEP-0060 section 4.1), access models, service-wide admins."""

from __future__ import annotations

from typing import Any

from tigase_py.server.core.module import StanzaContext
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub.errors import forbidden, node_not_found, nodeid_required, pubsub_error
from tigase_py.server.modules.pubsub.node_config import with_defaults
from tigase_py.server.stores.pubsub import PUBSUB, PubSubStore
from tigase_py.server.stores.pubsub_records import NodeRecord
from tigase_py.server.xml.element import Element

AFFILIATIONS = ("owner", "publisher", "publish-only", "member", "none", "outcast")


class NodeAccess:
    """One node as seen by the requester: its record, full config and the requester's affiliation."""

    def __init__(self, record: NodeRecord, affiliation: str, is_admin: bool) -> None:
        self.record = record
        self.config: dict[str, Any] = with_defaults(record.config)
        self.affiliation = affiliation
        self.is_admin = is_admin

    @property
    def is_owner(self) -> bool:
        return self.is_admin or self.affiliation == "owner"

    def require_owner(self) -> None:
        if not self.is_owner:
            raise forbidden("only an owner of the node may do that")

    def require_publisher(self, subscribed: bool) -> None:
        """XEP-0060 7.1.3.1 and the publish_model option."""
        if self.is_owner or self.affiliation in ("publisher", "publish-only"):
            return
        model = self.config["publish_model"]
        if self.affiliation != "outcast" and (model == "open" or (model == "subscribers" and subscribed)):
            return
        raise forbidden("you may not publish to this node")

    def require_reader(self, subscribed: bool | None = None) -> None:
        """Subscribe (``subscribed`` None) and retrieve items (XEP-0060 4.1, 6.1.3, 6.5.9): never
        outcasts or publish-only publishers; on a whitelist node only publishers and members; on an
        authorize node items only for those subscribed (approved)."""
        if self.is_owner:
            return
        if self.affiliation in ("outcast", "publish-only"):
            raise forbidden(f"a {self.affiliation} affiliation may not subscribe or retrieve items")
        model = self.config["access_model"]
        privileged = self.affiliation in ("publisher", "member")
        if model == "whitelist" and not privileged:
            raise pubsub_error("not-allowed", "closed-node", "this node is whitelist-only")
        if model == "authorize" and subscribed is False and not privileged:
            raise pubsub_error("not-authorized", "not-subscribed", "items are for approved subscribers")

    def needs_approval(self) -> bool:
        """Whether a new subscription is pending until an owner approves it (access model authorize)."""
        model = self.config["access_model"]
        return model == "authorize" and not self.is_owner and self.affiliation not in ("publisher", "member")


def store(ctx: StanzaContext) -> PubSubStore:
    return ctx.store(PUBSUB)


def service_of(ctx: StanzaContext) -> str:
    return ctx.to.domain


def is_admin(ctx: StanzaContext) -> bool:
    return ctx.module.settings.is_admin(ctx.user)


def node_name(action: Element) -> str:
    """The node attribute of a request that needs one; not-acceptable nodeid-required without it."""
    node = action.get("node") or ""
    if not node:
        raise nodeid_required()
    return node


async def load(ctx: StanzaContext, node: str) -> NodeAccess:
    """The node and the sender's standing on it; item-not-found when there is no such node."""
    pubsub = store(ctx)
    record = await pubsub.get_node(service_of(ctx), node)
    if record is None:
        raise node_not_found(node)
    affiliation = (await pubsub.affiliations(service_of(ctx), node)).get(ctx.user, "none")
    return NodeAccess(record, affiliation, is_admin(ctx))


def require_local_creator(ctx: StanzaContext) -> None:
    """Accounts of the vhost the service belongs to (and admins) may create nodes."""
    if ctx.sender.domain != ctx.module.vhost and not is_admin(ctx):
        raise StanzaError("forbidden", "only accounts of this server may create nodes")
