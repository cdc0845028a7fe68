"""When each account was last seen and with which status (XEP-0012 last activity)."""

from __future__ import annotations

import sqlalchemy as sa

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import JID_LENGTH, TABLE_OPTIONS, metadata
from tigase_py.server.storage.sql import upsert

last_activity = sa.Table(
    "last_activity",
    metadata,
    sa.Column("owner", sa.String(JID_LENGTH), primary_key=True),
    sa.Column("seconds", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    **TABLE_OPTIONS,
)


class LastActivityStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(self, owner: str, seconds_since_epoch: int, status: str) -> None:
        values = {"owner": owner, "seconds": seconds_since_epoch, "status": status}
        async with self._db.transaction() as conn:
            await upsert(conn, last_activity, values, ("owner",))

    async def get(self, owner: str) -> tuple[int, str] | None:
        query = sa.select(last_activity.c.seconds, last_activity.c.status).where(last_activity.c.owner == owner)
        async with self._db.connection() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (int(row.seconds), str(row.status))
