"""What SQL stores share: dialect-aware upsert and insert-if-missing, and the `SqlOwnerStore` base."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tigase_py.server.storage.database import Database, SqlConnection


async def upsert(
    conn: SqlConnection,
    table: sa.Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any] | None = None,
) -> None:
    """Insert `values`, or on a clash of the unique `keys` apply `update` (default: the non-key values)."""
    changes = dict(update) if update is not None else {k: v for k, v in values.items() if k not in keys}
    dialect = conn.dialect.name
    if dialect == "sqlite":
        sqlite_stmt = sqlite.insert(table).values(**values)
        await conn.execute(sqlite_stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects import mysql  # only on MySQL/MariaDB: a SQLite server never loads it

        mysql_stmt = mysql.insert(table).values(**values)
        await conn.execute(mysql_stmt.on_duplicate_key_update(**changes))
    else:
        where = sa.and_(*(table.c[k] == values[k] for k in keys))
        result = await conn.execute(sa.update(table).where(where).values(**changes))
        if result.rowcount == 0:
            await conn.execute(sa.insert(table).values(**values))


async def insert_missing(
    conn: SqlConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the `rows` whose unique `keys` are not present yet; the others are left alone."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        await conn.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys)), rows)
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects import mysql

        first = keys[0]
        stmt = mysql.insert(table)
        await conn.execute(stmt.on_duplicate_key_update(**{first: stmt.inserted[first]}), rows)
    else:
        for row in rows:
            where = sa.and_(*(table.c[k] == row[k] for k in keys))
            found = await conn.scalar(sa.select(sa.func.count()).select_from(table).where(where))
            if not found:
                await conn.execute(sa.insert(table).values(**row))


class SqlOwnerStore:
    """Base of a SQL feature store: keeps the `Database`; deletes an account's rows of `tables`.

    `tables` are keyed by an `owner` column holding the bare JID.
    """

    tables: ClassVar[tuple[sa.Table, ...]] = ()

    def __init__(self, db: Database) -> None:
        self._db = db

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        if conn is None:
            async with self._db.transaction() as own:
                await self.delete_account(owner, own)
            return
        for table in self.tables:
            await conn.execute(sa.delete(table).where(table.c.owner == owner))
