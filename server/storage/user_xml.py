"""Per-account XML documents: private XML storage (XEP-0049) and vcard-temp (XEP-0054)."""

from __future__ import annotations

import sqlalchemy as sa

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import JID_LENGTH, TABLE_OPTIONS, large_text, metadata, utcnow
from tigase_py.server.storage.sql import upsert

user_xml = sa.Table(
    "user_xml",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(JID_LENGTH), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("item_key", sa.String(255), nullable=False),
    sa.Column("xml", large_text(), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("owner", "kind", "item_key"),
    **TABLE_OPTIONS,
)


class UserXmlStore:
    """Documents keyed by (owner, kind, key), e.g. ("private", "storage:bookmarks") or ("vcard", "")."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _where(owner: str, kind: str, key: str) -> sa.ColumnElement[bool]:
        return sa.and_(user_xml.c.owner == owner, user_xml.c.kind == kind, user_xml.c.item_key == key)

    async def get(self, owner: str, kind: str, key: str) -> str | None:
        async with self._db.connection() as conn:
            found = await conn.scalar(sa.select(user_xml.c.xml).where(self._where(owner, kind, key)))
        return None if found is None else str(found)

    async def set(self, owner: str, kind: str, key: str, xml: str) -> None:
        values = {"owner": owner, "kind": kind, "item_key": key, "xml": xml, "updated_at": utcnow()}
        async with self._db.transaction() as conn:
            await upsert(conn, user_xml, values, ("owner", "kind", "item_key"))

    async def delete(self, owner: str, kind: str, key: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(sa.delete(user_xml).where(self._where(owner, kind, key)))
