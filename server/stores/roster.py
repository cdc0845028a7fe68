"""RFC 6121 roster items and per-owner roster versions (XEP-0237 versioning)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import JID_LENGTH, owner_keyed_table, owner_table
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, upsert

SUBSCRIPTIONS = ("none", "to", "from", "both")

roster_items = owner_table(
    "roster_items",
    sa.Column("jid", sa.String(JID_LENGTH), nullable=False),
    sa.Column("name", sa.String(1023), nullable=True),
    sa.Column("subscription", sa.String(4), nullable=False),
    *(sa.Column(flag, sa.Boolean, nullable=False) for flag in ("ask", "pending_in", "approved")),
    sa.Column("group_names", sa.Text, nullable=False),
    unique=("jid",),
)

roster_versions = owner_keyed_table("roster_versions", sa.Column("version", sa.BigInteger, nullable=False))


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


@runtime_checkable
class RosterStore(AccountData, Protocol):
    """Each owner's contacts and a version that grows with every change (0: never changed)."""

    async def get_items(self, owner: str) -> list[RosterItem]:
        """All items of `owner`, ordered by contact JID."""

    async def get_item(self, owner: str, jid: str) -> RosterItem | None: ...

    async def put_item(self, owner: str, item: RosterItem) -> int:
        """Insert or replace `item` (groups deduplicated, order kept); returns the new roster version."""

    async def remove_item(self, owner: str, jid: str) -> int:
        """Remove the item if present (idempotent); returns the version after it, bumped only on removal."""

    async def get_version(self, owner: str) -> int: ...


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


def export_roster(items: list[RosterItem], version: int) -> Exported:
    return {"version": version, "items": [asdict(item) | {"groups": list(item.groups)} for item in items]}


ITEM_COLUMNS = (
    roster_items.c.jid,
    roster_items.c.name,
    roster_items.c.subscription,
    roster_items.c.ask,
    roster_items.c.pending_in,
    roster_items.c.approved,
    roster_items.c.group_names,
)


class SqlRosterStore(SqlOwnerStore):
    tables = (roster_items, roster_versions)

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

    async def export_account(self, owner: str) -> Exported:
        return export_roster(await self.get_items(owner), await self.get_version(owner))

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
        return await SqlRosterStore._version(conn, owner)


class MemoryRoster:
    __slots__ = ("items", "version")

    def __init__(self) -> None:
        self.items: dict[str, RosterItem] = {}
        self.version = 0


class MemoryRosterStore(MemoryOwnerStore[MemoryRoster]):
    def _roster(self, owner: str) -> MemoryRoster:
        return self._owners.setdefault(owner, MemoryRoster())

    async def get_items(self, owner: str) -> list[RosterItem]:
        found = self._owners.get(owner)
        return [] if found is None else [found.items[jid] for jid in sorted(found.items)]

    async def get_item(self, owner: str, jid: str) -> RosterItem | None:
        found = self._owners.get(owner)
        return None if found is None else found.items.get(jid)

    async def put_item(self, owner: str, item: RosterItem) -> int:
        roster = self._roster(owner)
        roster.items[item.jid] = RosterItem(**(asdict(item) | {"groups": tuple(dict.fromkeys(item.groups))}))
        roster.version += 1
        return roster.version

    async def remove_item(self, owner: str, jid: str) -> int:
        roster = self._roster(owner)
        if roster.items.pop(jid, None) is not None:
            roster.version += 1
        return roster.version

    async def get_version(self, owner: str) -> int:
        found = self._owners.get(owner)
        return 0 if found is None else found.version

    async def export_account(self, owner: str) -> Exported:
        return export_roster(await self.get_items(owner), await self.get_version(owner))


ROSTER = StoreSpec[RosterStore]("roster", RosterStore, sql=SqlRosterStore, memory=MemoryRosterStore)
