"""The pubsub store in memory (for fast unit tests): the same behaviour as `SqlPubSubStore`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.metadata import utcnow
from tigase_py.server.storage.spec import Exported
from tigase_py.server.stores.pubsub_records import ItemRecord, NodeRecord, SubscriptionRecord, export_rows


@dataclass
class _Node:
    record: NodeRecord
    affiliations: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    items: dict[str, ItemRecord] = field(default_factory=dict)  # insertion order: oldest first


class MemoryPubSubStore:
    def __init__(self) -> None:
        self._nodes: dict[tuple[str, str], _Node] = {}

    async def create_node(self, service: str, node: str, owner: str, config: dict[str, Any]) -> bool:
        if (service, node) in self._nodes:
            return False
        self._nodes[service, node] = _Node(NodeRecord(service, node, owner, copy.deepcopy(config)), {owner: "owner"})
        return True

    async def get_node(self, service: str, node: str) -> NodeRecord | None:
        found = self._nodes.get((service, node))
        return None if found is None else copy.deepcopy(found.record)

    async def configure_node(self, service: str, node: str, config: dict[str, Any]) -> None:
        found = self._nodes.get((service, node))
        if found is not None:
            found.record = NodeRecord(service, node, found.record.owner, copy.deepcopy(config))

    async def delete_node(self, service: str, node: str) -> bool:
        return self._nodes.pop((service, node), None) is not None

    async def list_nodes(self, service: str, after: str | None, limit: int | None) -> tuple[list[str], int]:
        names = sorted(name for svc, name in self._nodes if svc == service)
        chosen = [name for name in names if after is None or name > after]
        return (chosen if limit is None else chosen[:limit]), len(names)

    async def count_created(self, service: str, owner: str) -> int:
        return sum(1 for (svc, _), n in self._nodes.items() if svc == service and n.record.owner == owner)

    async def affiliations(self, service: str, node: str) -> dict[str, str]:
        found = self._nodes.get((service, node))
        return {} if found is None else dict(found.affiliations)

    async def set_affiliation(self, service: str, node: str, jid: str, affiliation: str) -> None:
        found = self._nodes.get((service, node))
        if found is None:
            return
        if affiliation == "none":
            found.affiliations.pop(jid, None)
        else:
            found.affiliations[jid] = affiliation

    async def affiliations_of(self, service: str, jid: str) -> list[tuple[str, str]]:
        return sorted(
            (name, n.affiliations[jid])
            for (svc, name), n in self._nodes.items()
            if svc == service and jid in n.affiliations
        )

    async def subscribe(self, service: str, node: str, jid: str, subid: str, state: str) -> SubscriptionRecord:
        found = self._nodes[service, node]
        old = found.subscriptions.get(jid)
        record = SubscriptionRecord(node, jid, old.subid if old is not None else subid, state)
        found.subscriptions[jid] = record
        return record

    async def unsubscribe(self, service: str, node: str, jid: str) -> bool:
        found = self._nodes.get((service, node))
        return found is not None and found.subscriptions.pop(jid, None) is not None

    async def subscriptions(self, service: str, node: str) -> list[SubscriptionRecord]:
        found = self._nodes.get((service, node))
        return [] if found is None else [found.subscriptions[jid] for jid in sorted(found.subscriptions)]

    async def subscriptions_of(self, service: str, bare: str) -> list[SubscriptionRecord]:
        return [
            record
            for (svc, _), n in sorted(self._nodes.items())
            if svc == service
            for jid, record in sorted(n.subscriptions.items())
            if jid.split("/", 1)[0] == bare
        ]

    async def publish(
        self, service: str, node: str, item_id: str, publisher: str, payload: str, max_items: int | None
    ) -> None:
        found = self._nodes.get((service, node))
        if found is None:
            return
        found.items.pop(item_id, None)
        found.items[item_id] = ItemRecord(item_id, publisher, payload, utcnow())
        while max_items is not None and len(found.items) > max_items:
            del found.items[next(iter(found.items))]

    async def retract(self, service: str, node: str, item_id: str) -> bool:
        found = self._nodes.get((service, node))
        return found is not None and found.items.pop(item_id, None) is not None

    async def items(
        self, service: str, node: str, ids: list[str] | None = None, newest: int | None = None
    ) -> list[ItemRecord]:
        found = self._nodes.get((service, node))
        if found is None:
            return []
        chosen = [item for item in found.items.values() if ids is None or item.item_id in ids]
        return chosen[-newest:] if newest is not None and newest > 0 else ([] if newest == 0 else chosen)

    async def purge(self, service: str, node: str) -> None:
        found = self._nodes.get((service, node))
        if found is not None:
            found.items.clear()

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        for key in [key for key, n in self._nodes.items() if n.record.owner == owner]:
            del self._nodes[key]
        for n in self._nodes.values():
            n.affiliations.pop(owner, None)
            for jid in [jid for jid in n.subscriptions if jid.split("/", 1)[0] == owner]:
                del n.subscriptions[jid]
            for item_id in [i for i, item in n.items.items() if item.publisher == owner]:
                del n.items[item_id]

    async def export_account(self, owner: str) -> Exported:
        nodes = [n.record for n in self._nodes.values() if n.record.owner == owner]
        affiliations = [
            (svc, name, owner, n.affiliations[owner])
            for (svc, name), n in self._nodes.items()
            if owner in n.affiliations
        ]
        subscriptions = [
            (svc, record)
            for (svc, _), n in self._nodes.items()
            for jid, record in n.subscriptions.items()
            if jid.split("/", 1)[0] == owner
        ]
        items = [
            (svc, name, item)
            for (svc, name), n in self._nodes.items()
            for item in n.items.values()
            if item.publisher == owner
        ]
        return export_rows(nodes, affiliations, subscriptions, items)
