"""Virtual hosts served by this installation."""

from __future__ import annotations

import builtins

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import DOMAIN_LENGTH, metadata, utcnow

vhosts = sa.Table(
    "vhosts",
    metadata,
    sa.Column("domain", sa.String(DOMAIN_LENGTH), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


class VhostStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self) -> builtins.list[str]:
        async with self._db.connection() as conn:
            rows = await conn.scalars(sa.select(vhosts.c.domain))
            return sorted(rows)

    async def add(self, domain: str) -> bool:
        """Add `domain`; False if it is already there."""
        async with self._db.transaction() as conn:
            if await conn.scalar(sa.select(vhosts.c.domain).where(vhosts.c.domain == domain)):
                return False
            try:
                await conn.execute(sa.insert(vhosts).values(domain=domain, enabled=True, created_at=utcnow()))
            except IntegrityError:
                return False
        return True

    async def remove(self, domain: str) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(sa.delete(vhosts).where(vhosts.c.domain == domain))
        return result.rowcount > 0

    async def exists(self, domain: str) -> bool:
        async with self._db.connection() as conn:
            found = await conn.scalar(sa.select(vhosts.c.domain).where(vhosts.c.domain == domain))
        return found is not None
