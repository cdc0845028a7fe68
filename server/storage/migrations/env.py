"""Alembic environment: runs on a connection handed over by `tigase_py.server.storage.migrate`.

When started from the `alembic` command line instead, it opens an async engine from
`sqlalchemy.url` and runs the migrations through `run_sync`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tigase_py.server.storage.database import Database
from tigase_py.server.storage.metadata import metadata, with_table_options
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.users import users  # noqa: F401  (declares the core tables)
from tigase_py.server.storage.vhosts import vhosts  # noqa: F401

discover()  # declares every feature store's tables on the metadata
with_table_options(metadata)  # InnoDB, utf8mb4, binary collation in generated MySQL DDL


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await db.close()


def main() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
    else:
        asyncio.run(run_from_url(url))


main()
