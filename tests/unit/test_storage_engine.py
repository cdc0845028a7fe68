"""open_storage, URL handling, schema checks and error translation."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tigase_py.server.storage import migrate
from tigase_py.server.storage.database import Database, normalise_url
from tigase_py.server.storage.engine import Storage, open_storage
from tigase_py.server.storage.errors import InvalidStorageUrl, StorageError, StorageUnavailable
from tigase_py.server.storage.metadata import metadata
from tigase_py.server.storage.registry import discover


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/tigase.db", "sqlite+aiosqlite:///data/tigase.db"),
        ("sqlite+aiosqlite:////abs/t.db", "sqlite+aiosqlite:////abs/t.db"),
        ("mysql://u:p@127.0.0.1:3307/tigase", "mysql+asyncmy://u:***@127.0.0.1:3307/tigase?charset=utf8mb4"),
        ("mariadb://u:p@db/tigase", "mysql+asyncmy://u:***@db/tigase?charset=utf8mb4"),
        ("mysql+asyncmy://u:p@db/t?charset=utf8mb4", "mysql+asyncmy://u:***@db/t?charset=utf8mb4"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=True) == expected


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "not a url", "mysql://u:p@host/"])
def test_bad_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(InvalidStorageUrl) as caught:
        normalise_url(url)
    assert "\n" not in str(caught.value)


async def test_storage_has_every_store(storage: Storage) -> None:
    assert hasattr(storage, "users") and hasattr(storage, "vhosts")
    assert storage.stores.specs == discover()
    for spec in discover():
        assert isinstance(storage.store(spec), spec.protocol)
    assert await storage.ping()


async def test_schema_matches_models_after_migration(storage_url: str) -> None:
    storage = await open_storage(storage_url, create=True)
    try:
        async with storage.db.connection() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    finally:
        await storage.close()
    assert diff == []


async def test_create_is_idempotent(storage_url: str) -> None:
    for _ in range(2):
        storage = await open_storage(storage_url, create=True)
        await storage.vhosts.add("example.com")
        await storage.close()
    storage = await open_storage(storage_url)
    assert await storage.vhosts.list() == ["example.com"]
    await storage.close()


async def test_empty_database_needs_upgrade(storage_url: str) -> None:
    if storage_url.startswith("sqlite"):
        db = Database(storage_url)
        async with db.transaction() as conn:  # creates the file, with no schema in it
            await conn.execute(sa.text("CREATE TABLE unrelated (x INTEGER)"))
        await db.close()
    with pytest.raises(StorageError, match=r"schema is at base .*run `tigase-py db upgrade`"):
        await open_storage(storage_url)
    before, after = await migrate.upgrade_schema(storage_url, create=False)
    assert before.current is None and after.is_current
    storage = await open_storage(storage_url)
    await storage.close()


async def test_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "tigase.db"
    with pytest.raises(StorageUnavailable, match="does not exist, run `tigase-py db init`"):
        await open_storage(f"sqlite:///{path}")
    assert not path.exists()
    storage = await open_storage(f"sqlite:///{path}", create=True)
    await storage.close()
    assert path.exists()


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    storage = await open_storage(sqlite_url, create=True)
    async with storage.db.connection() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert int((await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() or 0) > 0
    await storage.close()


async def test_unreachable_mysql_is_storage_unavailable() -> None:
    from tests.storage_fixtures import _free_port

    url = f"mysql://u:p@127.0.0.1:{_free_port()}/tigase"
    with pytest.raises(StorageUnavailable, match=r"^cannot connect to mysql at 127\.0\.0\.1:\d+: ") as caught:
        await open_storage(url)
    assert "\n" not in str(caught.value)
    db = Database(url)
    assert not await db.ping()
    await db.close()


@pytest.mark.mariadb
async def test_refused_login_is_storage_unavailable(mariadb_url: str) -> None:
    wrong = mariadb_url.replace(":tigase-secret@", ":wrong@")
    with pytest.raises(StorageUnavailable, match="Access denied for user 'tigase'"):
        await open_storage(wrong, create=True)


async def test_sql_errors_are_translated(storage: Storage) -> None:
    with pytest.raises(StorageError) as caught:
        async with storage.db.connection() as conn:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not isinstance(caught.value, StorageUnavailable)
    assert "no_such_table" in str(caught.value)
