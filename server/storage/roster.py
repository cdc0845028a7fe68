"""RFC 6121 roster items and per-owner roster versions (XEP-0237 versioning)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from tigase_py.server.storage.database import Database, SqlConnection
from tigase_py.server.storage.metadata import JID_LENGTH, TABLE_OPTIONS, metadata
from tigase_py.server.storage.sql import upsert

SUBSCRIPTIONS = ("none", "to", "from", "both")

roster_items = sa.Table(
    "roster_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(JID_LENGTH), nullable=False),
    sa.Column("jid", sa.String(JID_LENGTH), nullable=False),
    sa.Column("name", sa.String(1023), nullable=True),
    sa.Column("subscription", sa.String(4), nullable=False),
    sa.Column("ask", sa.Boolean, nullable=False),
    sa.Column("pending_in", sa.Boolean, nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False),
    sa.Column("group_names", sa.Text, nullable=False),
    sa.UniqueConstraint("owner", "jid"),
    **TABLE_OPTIONS,
)

roster_versions = sa.Table(
    "roster_versions",
    metadata,
    sa.Column("owner", sa.String(JID_LENGTH), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    **TABLE_OPTIONS,
)


@dataclass(frozen=True)
class RosterItem:
    """One contact: `ask` is a pending outbound subscription, `pending_in` an inbound one."""

    jid: str
    name: str | None = None
    subscription: str = "none"
    ask: bool = False
    pending_in: bool = False
    approved: bool = False
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.subscription not in SUBSCRIPTIONS:
            raise ValueError(f"invalid roster subscription {self.subscription!r}")


def item_from_row(mapping: sa.RowMapping) -> RosterItem:
    return RosterItem(
        jid=str(mapping["jid"]),
        name=None if mapping["name"] is None else str(mapping["name"]),
        subscription=str(mapping["subscription"]),
        ask=bool(mapping["ask"]),
        pending_in=bool(mapping["pending_in"]),
        approved=bool(mapping["approved"]),
        groups=tuple(json.loads(str(mapping["group_names"]))),
    )


ITEM_COLUMNS = (
    roster_items.c.jid,
    roster_items.c.name,
    roster_items.c.subscription,
    roster_items.c.ask,
    roster_items.c.pending_in,
    roster_items.c.approved,
    roster_items.c.group_names,
)


class RosterStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_items(self, owner: str) -> list[RosterItem]:
        query = sa.select(*ITEM_COLUMNS).where(roster_items.c.owner == owner).order_by(roster_items.c.jid)
        async with self._db.connection() as conn:
            return [item_from_row(row._mapping) for row in await conn.execute(query)]

    async def get_item(self, owner: str, jid: str) -> RosterItem | None:
        query = sa.select(*ITEM_COLUMNS).where(roster_items.c.owner == owner, roster_items.c.jid == jid)
        async with self._db.connection() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else item_from_row(row._mapping)

    async def put_item(self, owner: str, item: RosterItem) -> int:
        """Insert or replace `item`; returns the owner's new roster version."""
        values = {
            "owner": owner,
            "jid": item.jid,
            "name": item.name,
            "subscription": item.subscription,
            "ask": item.ask,
            "pending_in": item.pending_in,
            "approved": item.approved,
            "group_names": json.dumps(list(dict.fromkeys(item.groups)), ensure_ascii=False),
        }
        async with self._db.transaction() as conn:
            await upsert(conn, roster_items, values, ("owner", "jid"))
            return await self._bump(conn, owner)

    async def remove_item(self, owner: str, jid: str) -> int:
        """Remove the item if present (idempotent); returns the owner's roster version after it."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.delete(roster_items).where(roster_items.c.owner == owner, roster_items.c.jid == jid)
            )
            if result.rowcount > 0:
                return await self._bump(conn, owner)
            return await self._version(conn, owner)

    async def get_version(self, owner: str) -> int:
        async with self._db.connection() as conn:
            return await self._version(conn, owner)

    @staticmethod
    async def _version(conn: SqlConnection, owner: str) -> int:
        found = await conn.scalar(sa.select(roster_versions.c.version).where(roster_versions.c.owner == owner))
        return int(found or 0)

    @staticmethod
    async def _bump(conn: SqlConnection, owner: str) -> int:
        await upsert(
            conn,
            roster_versions,
            {"owner": owner, "version": 1},
            ("owner",),
            update={"version": roster_versions.c.version + 1},
        )
        return await RosterStore._version(conn, owner)
