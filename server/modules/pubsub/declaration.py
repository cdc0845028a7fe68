"""The pubsub module's declaration, its namespaces and the features its service advertises."""

from __future__ import annotations

from dataclasses import dataclass

from tigase_py.server.core.module import Identity, Module, Spec
from tigase_py.server.core.services import HostedService
from tigase_py.server.stores.pubsub import PUBSUB
from tigase_py.server.xml import ns

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_OWNER = "http://jabber.org/protocol/pubsub#owner"
NS_EVENT = "http://jabber.org/protocol/pubsub#event"

# The pubsub# features (XEP-0060 section 10) this service really implements.
SUPPORTED = (
    "access-authorize",
    "access-open",
    "access-whitelist",
    "config-node",
    "create-and-configure",
    "create-nodes",
    "delete-items",
    "delete-nodes",
    "instant-nodes",
    "item-ids",
    "manage-subscriptions",
    "member-affiliation",
    "meta-data",
    "modify-affiliations",
    "outcast-affiliation",
    "persistent-items",
    "publish",
    "publish-options",
    "publish-only-affiliation",
    "publisher-affiliation",
    "purge-nodes",
    "retract-items",
    "retrieve-affiliations",
    "retrieve-default",
    "retrieve-items",
    "retrieve-subscriptions",
    "subscribe",
)


@dataclass(frozen=True, slots=True)
class PubSubConfig:
    """``[modules.pubsub]``: how many nodes one account may create on a service (admins are exempt)."""

    max_nodes_per_account: int = 1000


module = Module(
    name="pubsub",
    specs=[Spec("XEP-0060", "1.26.0", status="partial")],
    stores=(PUBSUB,),
    config=PubSubConfig,
    service=HostedService(
        default_subdomain="pubsub",
        identities=[Identity("pubsub", "service", "Publish-Subscribe")],
        features=[ns.DISCO_INFO, ns.DISCO_ITEMS, NS_PUBSUB, *(f"{NS_PUBSUB}#{name}" for name in SUPPORTED)],
        name="Publish-Subscribe",
    ),
)
