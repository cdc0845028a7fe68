"""Offline message queue: stanzas kept for an account until it comes online."""

from __future__ import annotations

import sqlalchemy as sa

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import JID_LENGTH, TABLE_OPTIONS, large_text, metadata, serial, utcnow

offline_messages = sa.Table(
    "offline_messages",
    metadata,
    sa.Column("id", serial(), primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(JID_LENGTH), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("xml", large_text(), nullable=False),
    **TABLE_OPTIONS,
)


class OfflineStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def push(self, owner: str, stanza_xml: str, limit: int) -> bool:
        """Queue a stanza; False (and nothing stored) when `owner` already has `limit` messages.

        Exact on SQLite (writers are serialised); on MySQL two concurrent pushes for one owner may
        each see room for one more, so the queue can overshoot `limit` by the number of racers.
        """
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
        """(id, xml) of every queued stanza, in arrival order."""
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
