"""Per-account XML documents: private XML storage (XEP-0049) and vcard-temp (XEP-0054)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import large_text, owner_table, utcnow
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, upsert

user_xml = owner_table(
    "user_xml",
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("item_key", sa.String(255), nullable=False),
    sa.Column("xml", large_text(), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    unique=("kind", "item_key"),
)


@runtime_checkable
class UserXmlStore(AccountData, Protocol):
    """Documents keyed by (owner, kind, key), e.g. ("private", "storage:bookmarks") or ("vcard", "")."""

    async def get(self, owner: str, kind: str, key: str) -> str | None: ...

    async def set(self, owner: str, kind: str, key: str, xml: str) -> None: ...

    async def delete(self, owner: str, kind: str, key: str) -> None:
        """Remove the document if present (idempotent)."""


def export_documents(documents: list[tuple[str, str, str]]) -> Exported:
    return [{"kind": kind, "key": key, "xml": xml} for kind, key, xml in sorted(documents)]


class SqlUserXmlStore(SqlOwnerStore):
    tables = (user_xml,)

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

    async def export_account(self, owner: str) -> Exported:
        query = sa.select(user_xml.c.kind, user_xml.c.item_key, user_xml.c.xml).where(user_xml.c.owner == owner)
        async with self._db.connection() as conn:
            rows = (await conn.execute(query)).all()
        return export_documents([(str(row.kind), str(row.item_key), str(row.xml)) for row in rows])


class MemoryUserXmlStore(MemoryOwnerStore[dict[tuple[str, str], str]]):
    async def get(self, owner: str, kind: str, key: str) -> str | None:
        return self._owners.get(owner, {}).get((kind, key))

    async def set(self, owner: str, kind: str, key: str, xml: str) -> None:
        self._owners.setdefault(owner, {})[(kind, key)] = xml

    async def delete(self, owner: str, kind: str, key: str) -> None:
        self._owners.get(owner, {}).pop((kind, key), None)

    async def export_account(self, owner: str) -> Exported:
        return export_documents([(kind, key, xml) for (kind, key), xml in self._owners.get(owner, {}).items()])


USER_XML = StoreSpec[UserXmlStore]("user_xml", UserXmlStore, sql=SqlUserXmlStore, memory=MemoryUserXmlStore)
