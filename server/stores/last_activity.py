"""When each account was last seen and with which status (XEP-0012 last activity)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import owner_keyed_table
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, upsert

last_activity = owner_keyed_table(
    "last_activity",
    sa.Column("seconds", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
)


@runtime_checkable
class LastActivityStore(AccountData, Protocol):
    """One (seconds since the epoch, status text) per owner: the last logout."""

    async def set(self, owner: str, seconds_since_epoch: int, status: str) -> None: ...

    async def get(self, owner: str) -> tuple[int, str] | None: ...


def export_last(record: tuple[int, str] | None) -> Exported:
    return None if record is None else {"seconds": record[0], "status": record[1]}


class SqlLastActivityStore(SqlOwnerStore):
    tables = (last_activity,)

    async def set(self, owner: str, seconds_since_epoch: int, status: str) -> None:
        values = {"owner": owner, "seconds": seconds_since_epoch, "status": status}
        async with self._db.transaction() as conn:
            await upsert(conn, last_activity, values, ("owner",))

    async def get(self, owner: str) -> tuple[int, str] | None:
        query = sa.select(last_activity.c.seconds, last_activity.c.status).where(last_activity.c.owner == owner)
        async with self._db.connection() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (int(row.seconds), str(row.status))

    async def export_account(self, owner: str) -> Exported:
        return export_last(await self.get(owner))


class MemoryLastActivityStore(MemoryOwnerStore[tuple[int, str]]):
    async def set(self, owner: str, seconds_since_epoch: int, status: str) -> None:
        self._owners[owner] = (seconds_since_epoch, status)

    async def get(self, owner: str) -> tuple[int, str] | None:
        return self._owners.get(owner)

    async def export_account(self, owner: str) -> Exported:
        return export_last(self._owners.get(owner))


LAST_ACTIVITY = StoreSpec[LastActivityStore](
    "last_activity", LastActivityStore, sql=SqlLastActivityStore, memory=MemoryLastActivityStore
)
