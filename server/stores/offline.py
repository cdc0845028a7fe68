"""Offline message queue: stanzas kept for an account until it comes online."""

from __future__ import annotations

import itertools
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import large_text, owner_table, serial, utcnow
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore

offline_messages = owner_table(
    "offline_messages",
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("xml", large_text(), nullable=False),
    id_type=serial(),
)


@runtime_checkable
class OfflineStore(AccountData, Protocol):
    """Serialised stanzas per owner, with increasing ids, in arrival order."""

    async def push(self, owner: str, stanza_xml: str, limit: int) -> bool:
        """Queue a stanza; False (and nothing stored) when `owner` already has `limit` messages."""

    async def count(self, owner: str) -> int: ...

    async def fetch(self, owner: str) -> list[tuple[int, str]]:
        """(id, xml) of every queued stanza, in arrival order."""

    async def delete(self, owner: str, ids: list[int]) -> None:
        """Drop the owner's messages with these ids; ids of other owners are left alone."""


class SqlOfflineStore(SqlOwnerStore):
    tables = (offline_messages,)

    async def push(self, owner: str, stanza_xml: str, limit: int) -> bool:
        """Exact on SQLite (writers are serialised); on MySQL two concurrent pushes for one owner may
        each see room for one more, so the queue can overshoot `limit` by the number of racers."""
        async with self._db.transaction() as conn:
            queued = await conn.scalar(
                sa.select(sa.func.count()).select_from(offline_messages).where(offline_messages.c.owner == owner)
            )
            if int(queued or 0) >= limit:
                return False
            await conn.execute(sa.insert(offline_messages).values(owner=owner, created_at=utcnow(), xml=stanza_xml))
        return True

    async def count(self, owner: str) -> int:
        query = sa.select(sa.func.count()).select_from(offline_messages).where(offline_messages.c.owner == owner)
        async with self._db.connection() as conn:
            return int(await conn.scalar(query) or 0)

    async def fetch(self, owner: str) -> list[tuple[int, str]]:
        query = (
            sa.select(offline_messages.c.id, offline_messages.c.xml)
            .where(offline_messages.c.owner == owner)
            .order_by(offline_messages.c.id)
        )
        async with self._db.connection() as conn:
            return [(int(row.id), str(row.xml)) for row in await conn.execute(query)]

    async def delete(self, owner: str, ids: list[int]) -> None:
        if not ids:
            return
        async with self._db.transaction() as conn:
            await conn.execute(
                sa.delete(offline_messages).where(offline_messages.c.owner == owner, offline_messages.c.id.in_(ids))
            )

    async def export_account(self, owner: str) -> Exported:
        return [xml for _, xml in await self.fetch(owner)]


class MemoryOfflineStore(MemoryOwnerStore[dict[int, str]]):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    async def push(self, owner: str, stanza_xml: str, limit: int) -> bool:
        queue = self._owners.setdefault(owner, {})
        if len(queue) >= limit:
            return False
        queue[next(self._ids)] = stanza_xml
        return True

    async def count(self, owner: str) -> int:
        return len(self._owners.get(owner, {}))

    async def fetch(self, owner: str) -> list[tuple[int, str]]:
        return sorted(self._owners.get(owner, {}).items())

    async def delete(self, owner: str, ids: list[int]) -> None:
        queue = self._owners.get(owner, {})
        for message_id in ids:
            queue.pop(message_id, None)

    async def export_account(self, owner: str) -> Exported:
        return [xml for _, xml in await self.fetch(owner)]


OFFLINE = StoreSpec[OfflineStore]("offline", OfflineStore, sql=SqlOfflineStore, memory=MemoryOfflineStore)
