"""Schema revisions through Alembic, configured in code (no alembic.ini) and run via `run_sync`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from tigase_py.server.storage.database import Database, sqlite_path
from tigase_py.server.storage.errors import StorageError, StorageUnavailable, first_line

MIGRATIONS = Path(__file__).with_name("migrations")
EMPTY = "base (empty database)"


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    def describe_current(self) -> str:
        return self.current or EMPTY


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise StorageError(f"migrations have {len(heads)} heads, expected one: {', '.join(heads)}")
    return heads[0]


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def require_file(db: Database, *, create: bool) -> None:
    """A missing SQLite file is an error unless `create`, which makes its folder."""
    path = sqlite_path(db.url)
    if path is None or path.exists():
        return
    if not create:
        raise StorageUnavailable(f"sqlite database {path} does not exist, run `tigase-py db init`")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # An empty file is an empty database; SQLite gives its -wal and -shm files the same mode.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise StorageUnavailable(f"cannot create {path}: {exc.strerror}") from exc


async def status(db: Database) -> SchemaStatus:
    head = head_revision()
    try:
        async with db.connection() as conn:
            current = await conn.run_sync(_current)
    except CommandError as exc:
        raise StorageError(f"cannot read schema revision: {first_line(str(exc))}") from exc
    return SchemaStatus(current, head)


async def upgrade(db: Database, revision: str = "head") -> None:
    try:
        async with db.transaction() as conn:
            await conn.run_sync(_upgrade, revision)
    except CommandError as exc:
        raise StorageError(f"migration failed: {first_line(str(exc))}") from exc


async def inspect_schema(url: str) -> SchemaStatus:
    """Current and head revision of the database at `url` (changes nothing)."""
    db = Database(url)
    try:
        require_file(db, create=False)
        return await status(db)
    finally:
        await db.close()


async def upgrade_schema(url: str, *, create: bool = True) -> tuple[SchemaStatus, SchemaStatus]:
    """Migrate the database at `url` to head; returns the status before and after."""
    db = Database(url)
    try:
        require_file(db, create=create)
        before = await status(db)
        if not before.is_current:
            await upgrade(db)
        return before, await status(db)
    finally:
        await db.close()
