"""The records of the pubsub store (`pubsub.py`), shared by its SQL and memory implementations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tigase_py.server.storage.spec import Exported

NODE_NAME_LIMIT = 255  # characters of a node name (its column)
ITEM_ID_LIMIT = 255  # characters of an item id


@dataclass(frozen=True, slots=True)
class NodeRecord:
    service: str
    node: str
    owner: str  # the account that created it
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemRecord:
    item_id: str
    publisher: str
    payload: str  # serialised XML; "" when published without payload
    published_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    node: str
    jid: str  # as subscribed: bare or full
    subid: str
    state: str  # "subscribed" (or "pending")


def export_rows(
    nodes: list[NodeRecord],
    affiliations: list[tuple[str, str, str, str]],
    subscriptions: list[tuple[str, SubscriptionRecord]],
    items: list[tuple[str, str, ItemRecord]],
) -> Exported:
    rows: list[dict[str, Any]] = [
        {"kind": "node", "service": n.service, "node": n.node, "config": n.config} for n in nodes
    ]
    rows += [{"kind": "affiliation", "service": s, "node": n, "affiliation": a} for s, n, _, a in affiliations]
    rows += [
        {"kind": "subscription", "service": s, "node": r.node, "jid": r.jid, "subid": r.subid, "state": r.state}
        for s, r in subscriptions
    ]
    rows += [{"kind": "item", "service": s, "node": n, "id": i.item_id, "payload": i.payload} for s, n, i in items]
    return sorted(rows, key=lambda r: (r["kind"], r["service"], r["node"], json.dumps(r, sort_keys=True)))
