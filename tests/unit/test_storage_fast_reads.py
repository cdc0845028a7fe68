"""`Database.fetch_all`: hot reads on SQLite in one driver call, the engine everywhere else."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tigase_py.server.storage.engine import Storage, open_storage
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.storage.sqlite_reads import compile_read
from tigase_py.server.storage.users import SCRAM_QUERY, users

CREATED_QUERY = sa.select(users.c.username, users.c.created_at).where(users.c.domain == sa.bindparam("domain"))
IN_LIST_QUERY = sa.select(users.c.username).where(users.c.username.in_(sa.bindparam("names", expanding=True)))


async def test_credentials_read_matches_on_both_backends(storage: Storage) -> None:
    await storage.users.create("alice", "example.com", "secret")
    rows = await storage.db.fetch_all(SCRAM_QUERY, {"username": "alice", "domain": "example.com", "hash_name": "SHA-1"})
    assert len(rows) == 1
    salt, stored_key, server_key, iterations = rows[0]
    assert len(stored_key) == len(server_key) == 20 and len(salt) >= 16 and iterations >= 4096
    missing = {"username": "alice", "domain": "example.org", "hash_name": "SHA-1"}
    assert await storage.db.fetch_all(SCRAM_QUERY, missing) == []


async def test_sqlite_reads_bypass_the_engine_and_see_committed_writes(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'fast.db'}", create=True)
    try:
        assert storage.db.reader is not None
        seen: list[str] = []
        storage.db.reader.trace = seen.append
        await storage.users.create("bob", "example.com", "pw")
        creds = await storage.users.get_scram("bob", "example.com", "SHA-256")
        assert creds is not None and len(creds.stored_key) == 32
        assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")
        # A later write on the engine's connection is visible to the reader's next call (WAL, no snapshot kept).
        await storage.users.set_password("bob", "example.com", "new")
        again = await storage.users.get_scram("bob", "example.com", "SHA-256")
        assert again is not None and again.stored_key != creds.stored_key
    finally:
        await storage.close()


async def test_result_types_are_converted_as_the_engine_would(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'types.db'}", create=True)
    try:
        await storage.users.create("carol", "example.com", "pw")
        fast = await storage.db.fetch_all(CREATED_QUERY, {"domain": "example.com"})
        async with storage.db.connection() as conn:
            slow = [tuple(row) for row in await conn.execute(CREATED_QUERY, {"domain": "example.com"})]
        assert fast == slow
        assert isinstance(fast[0][1], datetime.datetime)
    finally:
        await storage.close()


async def test_in_list_statements_run_through_the_engine(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'in.db'}", create=True)
    try:
        assert compile_read(IN_LIST_QUERY, storage.db.engine.dialect) is None
        for name in ("a", "b", "c"):
            await storage.users.create(name, "example.com", "pw")
        rows = await storage.db.fetch_all(IN_LIST_QUERY, {"names": ["a", "c", "zz"]})
        assert sorted(rows) == [("a",), ("c",)]
    finally:
        await storage.close()


async def test_the_read_connection_cannot_write(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'ro.db'}", create=True)
    try:
        assert storage.db.reader is not None
        await storage.db.fetch_all(CREATED_QUERY, {"domain": "x"})  # opens the connection
        connection = storage.db.reader._connection
        assert connection is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("DELETE FROM users")
    finally:
        await storage.close()


async def test_a_vanished_database_file_is_a_storage_error(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'gone.db'}", create=True)
    try:
        (tmp_path / "gone.db").unlink()
        (tmp_path / "gone.db").mkdir()  # the path now names a directory: the reader cannot open it
        with pytest.raises(StorageError, match="sqlite"):
            await storage.db.fetch_all(CREATED_QUERY, {"domain": "example.com"})
    finally:
        await storage.close()
