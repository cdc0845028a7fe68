"""Publish-subscribe (XEP-0060) nodes, affiliations, subscriptions and items, per service domain.

Every row names the account it concerns in `owner`: the node's creator, the affiliated or subscribed
bare JID, the item's publisher. Deleting an account removes the nodes it created (with everything in
them) and every other row it owns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.metadata import (
    DOMAIN_LENGTH,
    JID_LENGTH,
    large_text,
    metadata,
    serial,
    utcnow,
)
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore
from tigase_py.server.stores.pubsub_memory import MemoryPubSubStore
from tigase_py.server.stores.pubsub_records import (
    ITEM_ID_LIMIT,
    NODE_NAME_LIMIT,
    ItemRecord,
    NodeRecord,
    SubscriptionRecord,
    export_rows,
)

NODE_LENGTH = NODE_NAME_LIMIT
ITEM_ID_LENGTH = ITEM_ID_LIMIT


def _table(name: str, *columns: sa.Column[Any] | sa.Constraint) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", serial(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(JID_LENGTH), nullable=False, index=True),
        *columns,
    )


pubsub_nodes = _table(
    "pubsub_nodes",
    sa.Column("service", sa.String(DOMAIN_LENGTH), nullable=False),
    sa.Column("node", sa.String(NODE_LENGTH), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("service", "node"),
)
pubsub_affiliations = _table(
    "pubsub_affiliations",
    sa.Column("node_id", sa.BigInteger, nullable=False),
    sa.Column("affiliation", sa.String(16), nullable=False),
    sa.UniqueConstraint("node_id", "owner"),
)
pubsub_subscriptions = _table(
    "pubsub_subscriptions",
    sa.Column("node_id", sa.BigInteger, nullable=False),
    sa.Column("jid", sa.String(JID_LENGTH), nullable=False),
    sa.Column("subid", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.UniqueConstraint("node_id", "jid"),
)
pubsub_items = _table(
    "pubsub_items",
    sa.Column("node_id", sa.BigInteger, nullable=False),
    sa.Column("item_id", sa.String(ITEM_ID_LENGTH), nullable=False),
    sa.Column("payload", large_text(), nullable=False),
    sa.Column("published_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("node_id", "item_id"),
)
NODE_TABLES = (pubsub_affiliations, pubsub_subscriptions, pubsub_items)


@runtime_checkable
class PubSubStore(AccountData, Protocol):
    """Nodes of each service domain with their affiliations, subscriptions and items."""

    async def create_node(self, service: str, node: str, owner: str, config: dict[str, Any]) -> bool:
        """Create `node` with `owner` as its owner; False when it exists already."""

    async def get_node(self, service: str, node: str) -> NodeRecord | None: ...

    async def configure_node(self, service: str, node: str, config: dict[str, Any]) -> None: ...

    async def delete_node(self, service: str, node: str) -> bool:
        """Remove the node and everything in it; False when there was none."""

    async def list_nodes(self, service: str, after: str | None, limit: int | None) -> tuple[list[str], int]:
        """Node names after `after` in name order, at most `limit`, and the service's node count."""

    async def count_created(self, service: str, owner: str) -> int:
        """How many nodes of the service `owner` created."""

    async def affiliations(self, service: str, node: str) -> dict[str, str]:
        """Bare JID → affiliation (only those other than "none")."""

    async def set_affiliation(self, service: str, node: str, jid: str, affiliation: str) -> None:
        """Set one affiliation; "none" removes it."""

    async def affiliations_of(self, service: str, jid: str) -> list[tuple[str, str]]:
        """(node, affiliation) of one bare JID across the service, by node name."""

    async def subscribe(self, service: str, node: str, jid: str, subid: str, state: str) -> SubscriptionRecord:
        """Subscribe `jid` (bare or full) or change its state; an existing subscription keeps its subid."""

    async def unsubscribe(self, service: str, node: str, jid: str) -> bool: ...

    async def subscriptions(self, service: str, node: str) -> list[SubscriptionRecord]: ...

    async def subscriptions_of(self, service: str, bare: str) -> list[SubscriptionRecord]:
        """Every subscription of `bare` and its full JIDs on the service, by node name."""

    async def publish(
        self, service: str, node: str, item_id: str, publisher: str, payload: str, max_items: int | None
    ) -> None:
        """Store (or replace, as the newest) one item; then keep only the newest `max_items`."""

    async def retract(self, service: str, node: str, item_id: str) -> bool: ...

    async def items(
        self, service: str, node: str, ids: list[str] | None = None, newest: int | None = None
    ) -> list[ItemRecord]:
        """Items oldest first: those with `ids`, or the `newest` N, or all."""

    async def purge(self, service: str, node: str) -> None: ...


class SqlPubSubStore(SqlOwnerStore):
    tables = (pubsub_nodes, *NODE_TABLES)

    async def _node_id(self, conn: SqlConnection, service: str, node: str) -> int | None:
        where = sa.and_(pubsub_nodes.c.service == service, pubsub_nodes.c.node == node)
        found = await conn.scalar(sa.select(pubsub_nodes.c.id).where(where))
        return None if found is None else int(found)

    async def create_node(self, service: str, node: str, owner: str, config: dict[str, Any]) -> bool:
        async with self._db.transaction() as conn:
            if await self._node_id(conn, service, node) is not None:
                return False
            values = {"service": service, "node": node, "owner": owner, "config": json.dumps(config)}
            result = await conn.execute(sa.insert(pubsub_nodes).values(**values, created_at=utcnow()))
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row has its key
            node_id = int(key[0])
            row = {"node_id": node_id, "owner": owner, "affiliation": "owner"}
            await conn.execute(sa.insert(pubsub_affiliations).values(**row))
        return True

    async def get_node(self, service: str, node: str) -> NodeRecord | None:
        where = sa.and_(pubsub_nodes.c.service == service, pubsub_nodes.c.node == node)
        async with self._db.connection() as conn:
            row = (await conn.execute(sa.select(pubsub_nodes).where(where))).first()
        return None if row is None else NodeRecord(service, node, row.owner, json.loads(row.config))

    async def configure_node(self, service: str, node: str, config: dict[str, Any]) -> None:
        where = sa.and_(pubsub_nodes.c.service == service, pubsub_nodes.c.node == node)
        async with self._db.transaction() as conn:
            await conn.execute(sa.update(pubsub_nodes).where(where).values(config=json.dumps(config)))

    async def _drop_nodes(self, conn: SqlConnection, ids: list[int]) -> None:
        for table in NODE_TABLES:
            await conn.execute(sa.delete(table).where(table.c.node_id.in_(ids)))
        await conn.execute(sa.delete(pubsub_nodes).where(pubsub_nodes.c.id.in_(ids)))

    async def delete_node(self, service: str, node: str) -> bool:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            if node_id is None:
                return False
            await self._drop_nodes(conn, [node_id])
        return True

    async def list_nodes(self, service: str, after: str | None, limit: int | None) -> tuple[list[str], int]:
        mine = pubsub_nodes.c.service == service
        query = sa.select(pubsub_nodes.c.node).where(mine).order_by(pubsub_nodes.c.node)
        if after is not None:
            query = query.where(pubsub_nodes.c.node > after)
        if limit is not None:
            query = query.limit(limit)
        async with self._db.connection() as conn:
            names = list(await conn.scalars(query))
            total = await conn.scalar(sa.select(sa.func.count()).select_from(pubsub_nodes).where(mine))
        return names, int(total or 0)

    async def count_created(self, service: str, owner: str) -> int:
        mine = sa.and_(pubsub_nodes.c.service == service, pubsub_nodes.c.owner == owner)
        async with self._db.connection() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(pubsub_nodes).where(mine)) or 0)

    async def affiliations(self, service: str, node: str) -> dict[str, str]:
        async with self._db.connection() as conn:
            node_id = await self._node_id(conn, service, node)
            query = sa.select(pubsub_affiliations).where(pubsub_affiliations.c.node_id == node_id)
            return {row.owner: row.affiliation for row in await conn.execute(query)}

    async def set_affiliation(self, service: str, node: str, jid: str, affiliation: str) -> None:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            if node_id is None:
                return
            where = sa.and_(pubsub_affiliations.c.node_id == node_id, pubsub_affiliations.c.owner == jid)
            await conn.execute(sa.delete(pubsub_affiliations).where(where))
            if affiliation != "none":
                row = {"node_id": node_id, "owner": jid, "affiliation": affiliation}
                await conn.execute(sa.insert(pubsub_affiliations).values(**row))

    async def affiliations_of(self, service: str, jid: str) -> list[tuple[str, str]]:
        query = (
            sa.select(pubsub_nodes.c.node, pubsub_affiliations.c.affiliation)
            .join(pubsub_nodes, pubsub_nodes.c.id == pubsub_affiliations.c.node_id)
            .where(pubsub_nodes.c.service == service, pubsub_affiliations.c.owner == jid)
            .order_by(pubsub_nodes.c.node)
        )
        async with self._db.connection() as conn:
            return [(row.node, row.affiliation) for row in await conn.execute(query)]

    async def subscribe(self, service: str, node: str, jid: str, subid: str, state: str) -> SubscriptionRecord:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            where = sa.and_(pubsub_subscriptions.c.node_id == node_id, pubsub_subscriptions.c.jid == jid)
            found = await conn.scalar(sa.select(pubsub_subscriptions.c.subid).where(where))
            if found is not None:
                await conn.execute(sa.update(pubsub_subscriptions).where(where).values(state=state))
                return SubscriptionRecord(node, jid, str(found), state)
            row = {"node_id": node_id, "owner": jid.split("/", 1)[0], "jid": jid, "subid": subid, "state": state}
            await conn.execute(sa.insert(pubsub_subscriptions).values(**row))
        return SubscriptionRecord(node, jid, subid, state)

    async def unsubscribe(self, service: str, node: str, jid: str) -> bool:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            where = sa.and_(pubsub_subscriptions.c.node_id == node_id, pubsub_subscriptions.c.jid == jid)
            return bool((await conn.execute(sa.delete(pubsub_subscriptions).where(where))).rowcount)

    def _subscription_query(self) -> sa.Select[Any]:
        subs = pubsub_subscriptions.c
        return (
            sa.select(pubsub_nodes.c.node, subs.jid, subs.subid, subs.state)
            .join(pubsub_nodes, pubsub_nodes.c.id == subs.node_id)
            .order_by(pubsub_nodes.c.node, subs.jid)
        )

    async def subscriptions(self, service: str, node: str) -> list[SubscriptionRecord]:
        query = self._subscription_query().where(pubsub_nodes.c.service == service, pubsub_nodes.c.node == node)
        async with self._db.connection() as conn:
            return [SubscriptionRecord(*row) for row in await conn.execute(query)]

    async def subscriptions_of(self, service: str, bare: str) -> list[SubscriptionRecord]:
        query = self._subscription_query().where(
            pubsub_nodes.c.service == service, pubsub_subscriptions.c.owner == bare
        )
        async with self._db.connection() as conn:
            return [SubscriptionRecord(*row) for row in await conn.execute(query)]

    async def publish(
        self, service: str, node: str, item_id: str, publisher: str, payload: str, max_items: int | None
    ) -> None:
        items = pubsub_items.c
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            if node_id is None:
                return
            await conn.execute(sa.delete(pubsub_items).where(items.node_id == node_id, items.item_id == item_id))
            row = {"node_id": node_id, "item_id": item_id, "owner": publisher, "payload": payload}
            await conn.execute(sa.insert(pubsub_items).values(**row, published_at=utcnow()))
            if max_items is not None:
                newest = sa.select(items.id).where(items.node_id == node_id).order_by(items.id.desc()).limit(max_items)
                kept = list(await conn.scalars(newest))
                await conn.execute(sa.delete(pubsub_items).where(items.node_id == node_id, items.id.not_in(kept)))

    async def retract(self, service: str, node: str, item_id: str) -> bool:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            where = sa.and_(pubsub_items.c.node_id == node_id, pubsub_items.c.item_id == item_id)
            return bool((await conn.execute(sa.delete(pubsub_items).where(where))).rowcount)

    async def items(
        self, service: str, node: str, ids: list[str] | None = None, newest: int | None = None
    ) -> list[ItemRecord]:
        items = pubsub_items.c
        async with self._db.connection() as conn:
            node_id = await self._node_id(conn, service, node)
            query = sa.select(pubsub_items).where(items.node_id == node_id).order_by(items.id.desc())
            if ids is not None:
                query = query.where(items.item_id.in_(ids))
            if newest is not None:
                query = query.limit(newest)
            rows = list(await conn.execute(query))
        return [ItemRecord(r.item_id, r.owner, r.payload, r.published_at) for r in reversed(rows)]

    async def purge(self, service: str, node: str) -> None:
        async with self._db.transaction() as conn:
            node_id = await self._node_id(conn, service, node)
            await conn.execute(sa.delete(pubsub_items).where(pubsub_items.c.node_id == node_id))

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        if conn is None:
            async with self._db.transaction() as own:
                await self.delete_account(owner, own)
            return
        created = list(await conn.scalars(sa.select(pubsub_nodes.c.id).where(pubsub_nodes.c.owner == owner)))
        if created:
            await self._drop_nodes(conn, [int(i) for i in created])
        await super().delete_account(owner, conn)

    async def export_account(self, owner: str) -> Exported:
        n = pubsub_nodes.c
        async with self._db.connection() as conn:
            nodes = [
                NodeRecord(r.service, r.node, r.owner, json.loads(r.config))
                for r in await conn.execute(sa.select(pubsub_nodes).where(n.owner == owner))
            ]
            joined = sa.select(n.service, n.node, pubsub_affiliations.c.affiliation).join(
                pubsub_nodes, n.id == pubsub_affiliations.c.node_id
            )
            affiliations = [
                (r.service, r.node, owner, r.affiliation)
                for r in await conn.execute(joined.where(pubsub_affiliations.c.owner == owner))
            ]
            subs_query = self._subscription_query().add_columns(n.service)
            subscriptions = [
                (r.service, SubscriptionRecord(r.node, r.jid, r.subid, r.state))
                for r in await conn.execute(subs_query.where(pubsub_subscriptions.c.owner == owner))
            ]
            item_query = sa.select(n.service, n.node, pubsub_items).join(pubsub_nodes, n.id == pubsub_items.c.node_id)
            items = [
                (r.service, r.node, ItemRecord(r.item_id, r.owner, r.payload, r.published_at))
                for r in await conn.execute(item_query.where(pubsub_items.c.owner == owner))
            ]
        return export_rows(nodes, affiliations, subscriptions, items)


PUBSUB = StoreSpec[PubSubStore](
    "pubsub",
    PubSubStore,
    sql=SqlPubSubStore,
    memory=MemoryPubSubStore,
    migrations=Path(__file__).with_name("pubsub_migrations"),
)
