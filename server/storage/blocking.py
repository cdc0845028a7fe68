"""Blocked JIDs per account (XEP-0191 blocking command)."""

from __future__ import annotations

import builtins

import sqlalchemy as sa

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import JID_LENGTH, TABLE_OPTIONS, metadata
from tigase_py.server.storage.sql import insert_missing

blocked_jids = sa.Table(
    "blocked_jids",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(JID_LENGTH), nullable=False),
    sa.Column("jid", sa.String(JID_LENGTH), nullable=False),
    sa.UniqueConstraint("owner", "jid"),
    **TABLE_OPTIONS,
)


class BlockingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, owner: str) -> builtins.list[str]:
        query = sa.select(blocked_jids.c.jid).where(blocked_jids.c.owner == owner).order_by(blocked_jids.c.jid)
        async with self._db.connection() as conn:
            return list(await conn.scalars(query))

    async def add(self, owner: str, jids: builtins.list[str]) -> None:
        rows = [{"owner": owner, "jid": jid} for jid in dict.fromkeys(jids)]
        async with self._db.transaction() as conn:
            await insert_missing(conn, blocked_jids, rows, ("owner", "jid"))

    async def remove(self, owner: str, jids: builtins.list[str] | None) -> None:
        """Unblock `jids`, or everything when `jids` is None."""
        where = blocked_jids.c.owner == owner
        if jids is not None:
            if not jids:
                return
            where = sa.and_(where, blocked_jids.c.jid.in_(jids))
        async with self._db.transaction() as conn:
            await conn.execute(sa.delete(blocked_jids).where(where))
