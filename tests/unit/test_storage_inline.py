"""SQLite files: statements run inline and write transactions of this process take turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tigase_py.server.storage import database
from tigase_py.server.storage.engine import Storage, open_storage
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.storage.inline import InlineConnection
from tigase_py.server.stores.roster import ROSTER, RosterItem


@pytest.fixture
async def file_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'inline.db'}", create=True)
    yield storage
    await storage.close()


async def test_file_databases_hand_out_inline_connections(file_storage: Storage) -> None:
    async with file_storage.db.connection() as conn:
        assert isinstance(conn, InlineConnection)
        assert await conn.scalar(sa.text("SELECT 1")) == 1
    memory = await open_storage("sqlite://", create=True)
    try:
        async with memory.db.connection() as conn:
            assert not isinstance(conn, InlineConnection)  # one in-memory database per connection: async engine
    finally:
        await memory.close()


async def test_hundreds_of_concurrent_writes_all_land(file_storage: Storage) -> None:
    owners = [f"u{n}@example.com" for n in range(50)]

    async def add(n: int) -> int:
        return await file_storage.store(ROSTER).put_item(owners[n % 50], RosterItem(f"c{n}@example.com", ask=True))

    versions = await asyncio.gather(*(add(n) for n in range(600)))
    assert len(versions) == 600
    for owner in owners:
        items = await file_storage.store(ROSTER).get_items(owner)
        assert len(items) == 12
        assert await file_storage.store(ROSTER).get_version(owner) == 12


async def test_a_second_writer_waits_for_the_first_to_commit(file_storage: Storage) -> None:
    order: list[str] = []
    first_inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with file_storage.db.transaction() as conn:
            await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
            order.append("first in")
            first_inside.set()
            await release.wait()  # another coroutine runs meanwhile
            await conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
        order.append("first committed")

    async def second() -> None:
        await first_inside.wait()
        async with file_storage.db.transaction() as conn:
            order.append("second in")
            count = await conn.scalar(sa.text("SELECT count(*) FROM probe"))
            order.append(f"second saw {count}")

    task_first, task_second = asyncio.create_task(first()), asyncio.create_task(second())
    await first_inside.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["first in"]  # the second writer is queued, not blocking the loop
    release.set()
    await asyncio.gather(task_first, task_second)
    assert order == ["first in", "first committed", "second in", "second saw 1"]


async def test_a_writer_that_never_gets_its_turn_fails_with_one_line(
    file_storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "WRITE_QUEUE_TIMEOUT_S", 0.2)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with file_storage.db.transaction():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    with pytest.raises(StorageError, match="no write turn in 0s"):
        await file_storage.store(ROSTER).put_item("a@example.com", RosterItem("b@example.com"))
    release.set()
    await holder
    assert await file_storage.store(ROSTER).put_item("a@example.com", RosterItem("b@example.com")) == 1
