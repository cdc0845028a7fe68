"""The hello module's store: the last greeting each account got (see server/storage/README.md).

Its table is created by its own Alembic revision (``migrations/``, branch ``hello``), which
``tigase-py db upgrade`` and the server's start run once the distribution is installed; account
deletion and export reach it because the module lists it in ``Module(stores=...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.memory import MemoryOwnerStore
from tigase_py.server.storage.metadata import owner_keyed_table
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, upsert

hello_greetings = owner_keyed_table("hello_greetings", sa.Column("greeting", sa.Text, nullable=False))


@runtime_checkable
class GreetingStore(AccountData, Protocol):
    """One greeting per owner bare JID: the last one sent."""

    async def remember(self, owner: str, greeting: str) -> None: ...

    async def last(self, owner: str) -> str | None: ...


class SqlGreetingStore(SqlOwnerStore):
    tables = (hello_greetings,)

    async def remember(self, owner: str, greeting: str) -> None:
        async with self._db.transaction() as conn:
            await upsert(conn, hello_greetings, {"owner": owner, "greeting": greeting}, ("owner",))

    async def last(self, owner: str) -> str | None:
        query = sa.select(hello_greetings.c.greeting).where(hello_greetings.c.owner == owner)
        async with self._db.connection() as conn:
            found = await conn.scalar(query)
        return None if found is None else str(found)

    async def export_account(self, owner: str) -> Exported:
        return await self.last(owner)


class MemoryGreetingStore(MemoryOwnerStore[str]):
    async def remember(self, owner: str, greeting: str) -> None:
        self._owners[owner] = greeting

    async def last(self, owner: str) -> str | None:
        return self._owners.get(owner)

    async def export_account(self, owner: str) -> Exported:
        return self._owners.get(owner)


GREETINGS = StoreSpec[GreetingStore](
    "hello",
    GreetingStore,
    sql=SqlGreetingStore,
    memory=MemoryGreetingStore,
    migrations=Path(__file__).with_name("migrations"),
)
