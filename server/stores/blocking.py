"""Blocked JIDs per account (XEP-0191 blocking command)."""

from __future__ import annotations

import builtins
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import JID_LENGTH, owner_table
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, insert_missing

blocked_jids = owner_table("blocked_jids", sa.Column("jid", sa.String(JID_LENGTH), nullable=False), unique=("jid",))


@runtime_checkable
class BlockingStore(AccountData, Protocol):
    """A set of blocked JIDs (full, bare or domain) per owner."""

    async def list(self, owner: str) -> builtins.list[str]:
        """The owner's blocked JIDs, sorted."""

    async def add(self, owner: str, jids: builtins.list[str]) -> None:
        """Block `jids`; ones already blocked stay as they are."""

    async def remove(self, owner: str, jids: builtins.list[str] | None) -> None:
        """Unblock `jids`, or everything when `jids` is None."""


class SqlBlockingStore(SqlOwnerStore):
    tables = (blocked_jids,)

    async def list(self, owner: str) -> builtins.list[str]:
        query = sa.select(blocked_jids.c.jid).where(blocked_jids.c.owner == owner).order_by(blocked_jids.c.jid)
        async with self._db.connection() as conn:
            return list(await conn.scalars(query))

    async def add(self, owner: str, jids: builtins.list[str]) -> None:
        rows = [{"owner": owner, "jid": jid} for jid in dict.fromkeys(jids)]
        async with self._db.transaction() as conn:
            await insert_missing(conn, blocked_jids, rows, ("owner", "jid"))

    async def remove(self, owner: str, jids: builtins.list[str] | None) -> None:
        where = blocked_jids.c.owner == owner
        if jids is not None:
            if not jids:
                return
            where = sa.and_(where, blocked_jids.c.jid.in_(jids))
        async with self._db.transaction() as conn:
            await conn.execute(sa.delete(blocked_jids).where(where))

    async def export_account(self, owner: str) -> Exported:
        return await self.list(owner)


class MemoryBlockingStore(MemoryOwnerStore[set[str]]):
    async def list(self, owner: str) -> builtins.list[str]:
        return sorted(self._owners.get(owner, ()))

    async def add(self, owner: str, jids: builtins.list[str]) -> None:
        self._owners.setdefault(owner, set()).update(jids)

    async def remove(self, owner: str, jids: builtins.list[str] | None) -> None:
        if jids is None:
            self._owners.pop(owner, None)
        else:
            self._owners.get(owner, set()).difference_update(jids)

    async def export_account(self, owner: str) -> Exported:
        return await self.list(owner)


BLOCKING = StoreSpec[BlockingStore]("blocking", BlockingStore, sql=SqlBlockingStore, memory=MemoryBlockingStore)
