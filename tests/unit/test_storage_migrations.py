"""Per-store Alembic branches: a store declared here brings its own revision after the core 0001.

A database created by the previous release (schema at 0001, every table in one revision) upgrades
to the new heads with its data kept, and the new store then takes part in account deletion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pytest
import sqlalchemy as sa

from tigase_py.server.storage import migrate
from tigase_py.server.storage.database import Database
from tigase_py.server.storage.engine import open_storage
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.storage.memory import MemoryOwnerStore, MemoryStorage
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.storage.sql import SqlOwnerStore, upsert
from tigase_py.server.storage.users import users
from tigase_py.server.stores.roster import ROSTER, RosterItem, roster_items

# Its own MetaData: the shared one describes the schema every database has.
notes_metadata = sa.MetaData()
test_notes = sa.Table(
    "test_notes",
    notes_metadata,
    sa.Column("owner", sa.String(320), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)


@runtime_checkable
class NotesStore(AccountData, Protocol):
    async def set(self, owner: str, text: str) -> None: ...

    async def get(self, owner: str) -> str | None: ...


class SqlNotesStore(SqlOwnerStore):
    tables = (test_notes,)

    async def set(self, owner: str, text: str) -> None:
        async with self._db.transaction() as conn:
            await upsert(conn, test_notes, {"owner": owner, "text": text}, ("owner",))

    async def get(self, owner: str) -> str | None:
        async with self._db.connection() as conn:
            found = await conn.scalar(sa.select(test_notes.c.text).where(test_notes.c.owner == owner))
        return None if found is None else str(found)

    async def export_account(self, owner: str) -> Exported:
        return await self.get(owner)


class MemoryNotesStore(MemoryOwnerStore[str]):
    async def set(self, owner: str, text: str) -> None:
        self._owners[owner] = text

    async def get(self, owner: str) -> str | None:
        return self._owners.get(owner)

    async def export_account(self, owner: str) -> Exported:
        return self._owners.get(owner)


NOTES = StoreSpec[NotesStore](
    name="notes",
    protocol=NotesStore,
    sql=SqlNotesStore,
    memory=MemoryNotesStore,
    tables=(test_notes,),
    migrations=Path(__file__).with_name("notes_migrations"),
)
WITH_NOTES: tuple[StoreSpec[Any], ...] = (*discover(), NOTES)


async def create_previous_release_database(url: str) -> None:
    """The schema at 0001 with one account and a roster item, as the previous release left it."""
    db = Database(url)
    try:
        migrate.require_file(db, create=True)
        await migrate.upgrade(db, "0001", specs=())
        async with db.transaction() as conn:
            alice = {"domain": "example.com", "username": "alice", "created_at": sa.func.now()}
            await conn.execute(sa.insert(users).values(**alice))
            await conn.execute(
                sa.insert(roster_items).values(
                    owner="alice@example.com",
                    jid="bob@example.com",
                    name="Bob",
                    subscription="both",
                    ask=False,
                    pending_in=False,
                    approved=False,
                    group_names='["Friends"]',
                )
            )
    finally:
        await db.close()


def test_core_alone_has_one_head() -> None:
    assert migrate.head_revisions(()) == ("0001",)
    assert migrate.head_revisions() == ("p001",)  # the built-in pubsub store's branch after 0001
    assert migrate.head_revisions(WITH_NOTES) == ("n001", "p001")
    assert migrate.head_revision(WITH_NOTES) == "n001, p001"


async def test_previous_release_database_upgrades_with_data_kept(storage_url: str) -> None:
    await create_previous_release_database(storage_url)
    assert (await migrate.inspect_schema(storage_url, specs=())).is_current  # nothing new for the core stores
    with pytest.raises(StorageError, match=r"schema is at 0001, run `tigase-py db upgrade`"):
        await open_storage(storage_url, specs=WITH_NOTES)
    before, after = await migrate.upgrade_schema(storage_url, create=False, specs=WITH_NOTES)
    assert (before.currents, before.is_current) == (("0001",), False)
    assert (after.currents, after.heads, after.is_current) == (("n001", "p001"), ("n001", "p001"), True)

    storage = await open_storage(storage_url, specs=WITH_NOTES)
    try:
        assert await storage.users.exists("alice", "example.com")
        assert await storage.store(ROSTER).get_items("alice@example.com") == [
            RosterItem("bob@example.com", name="Bob", subscription="both", groups=("Friends",))
        ]
        await storage.store(NOTES).set("alice@example.com", "remember the milk")
        assert (await storage.export_account("alice@example.com"))["notes"] == "remember the milk"
        assert await storage.users.delete("alice", "example.com")
        assert await storage.store(NOTES).get("alice@example.com") is None
        assert await storage.store(ROSTER).get_items("alice@example.com") == []
    finally:
        await storage.close()


async def test_new_database_gets_every_branch(sqlite_url: str) -> None:
    storage = await open_storage(sqlite_url, create=True, specs=WITH_NOTES)
    await storage.close()
    status = await migrate.inspect_schema(sqlite_url, specs=WITH_NOTES)
    assert status.is_current and status.current == "n001, p001"


async def test_notes_contract_in_memory_and_sql(sqlite_url: str) -> None:
    storage = await open_storage(sqlite_url, create=True, specs=WITH_NOTES)
    try:
        for store in (NOTES.memory(), storage.store(NOTES)):
            assert isinstance(store, NotesStore)
            assert await store.get("a@example.com") is None
            await store.set("a@example.com", "x")
            await store.set("a@example.com", "y")
            assert await store.get("a@example.com") == "y"
            await store.delete_account("a@example.com", None)
            assert await store.export_account("a@example.com") is None
    finally:
        await storage.close()


def test_a_store_whose_revisions_miss_its_branch_is_refused() -> None:
    mislabelled = StoreSpec[NotesStore](
        "notes", NotesStore, sql=SqlNotesStore, memory=MemoryNotesStore, migrations=NOTES.migrations, branch="jots"
    )
    with pytest.raises(StorageError, match=r"store notes: no revision in .* has branch 'jots'"):
        migrate.head_revisions((*discover(), mislabelled))


async def test_sql_storage_refuses_a_store_it_was_not_opened_with(sqlite_url: str) -> None:
    storage = await open_storage(sqlite_url, create=True)
    try:
        with pytest.raises(StorageError, match="store 'notes' is not registered"):
            storage.store(NOTES)
    finally:
        await storage.close()
    memory = MemoryStorage()
    await memory.store(NOTES).set("a@example.com", "x")  # memory stores take any spec
    assert (await memory.export_account("a@example.com"))["notes"] == "x"
