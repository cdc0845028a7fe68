"""Schema revisions through Alembic, configured in code (no alembic.ini) and run via `run_sync`.

The core revisions live in `migrations/versions`; a store that changes its schema later brings its
own version folder (`StoreSpec.migrations`) with revisions on its own branch, so the database has
one head per branch and `upgrade` goes to all of them ("heads").
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from tigase_py.server.storage.database import Database, sqlite_path
from tigase_py.server.storage.errors import StorageError, StorageUnavailable, first_line
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import StoreSpec

MIGRATIONS = Path(__file__).with_name("migrations")
EMPTY = "base (empty database)"


@dataclass(frozen=True)
class SchemaStatus:
    """The revisions the database is at and the newest ones: one per branch (core, and each store
    that brings its own migrations)."""

    currents: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def current(self) -> str | None:
        return ", ".join(self.currents) or None

    @property
    def head(self) -> str:
        return ", ".join(self.heads)

    @property
    def is_current(self) -> bool:
        return set(self.currents) == set(self.heads)

    def describe_current(self) -> str:
        return self.current or EMPTY


def version_locations(specs: Iterable[StoreSpec[Any]]) -> list[str]:
    """The core revisions (`migrations/versions`) and each store's own version folder."""
    extra = (str(spec.migrations) for spec in specs if spec.migrations is not None)
    return list(dict.fromkeys([str(MIGRATIONS / "versions"), *extra]))


def alembic_config(connection: Connection | None = None, specs: Iterable[StoreSpec[Any]] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = version_locations(discover() if specs is None else specs)
    config.set_main_option("version_locations", os.pathsep.join(locations).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def branches(specs: Iterable[StoreSpec[Any]] | None = None) -> tuple[str, ...]:
    """The revision branches `upgrade` follows: "core", then each store's own (built-in or third-party)."""
    chosen = discover() if specs is None else specs
    return ("core", *sorted({spec.branch_label for spec in chosen if spec.migrations is not None}))


def head_revisions(specs: Iterable[StoreSpec[Any]] | None = None) -> tuple[str, ...]:
    chosen = tuple(discover() if specs is None else specs)
    script = ScriptDirectory.from_config(alembic_config(specs=chosen))
    labels = {label for revision in script.walk_revisions() for label in revision.branch_labels}
    for spec in chosen:
        if spec.migrations is not None and spec.branch_label not in labels:
            raise StorageError(f"store {spec.name}: no revision in {spec.migrations} has branch {spec.branch_label!r}")
    return tuple(sorted(script.get_heads()))


def head_revision(specs: Iterable[StoreSpec[Any]] | None = None) -> str:
    """The newest revisions as `db status` shows them ("0001", or "0001, 0002_x" with store branches)."""
    return ", ".join(head_revisions(specs))


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def _upgrade(connection: Connection, specs: tuple[StoreSpec[Any], ...], revision: str) -> None:
    command.upgrade(alembic_config(connection, specs), revision)


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


async def status(db: Database, specs: Iterable[StoreSpec[Any]] | None = None) -> SchemaStatus:
    heads = head_revisions(specs)
    try:
        async with db.connection() as conn:
            current = await conn.run_sync(_current)
    except CommandError as exc:
        raise StorageError(f"cannot read schema revision: {first_line(str(exc))}") from exc
    return SchemaStatus(current, heads)


async def upgrade(db: Database, revision: str = "heads", specs: Iterable[StoreSpec[Any]] | None = None) -> None:
    chosen = tuple(discover() if specs is None else specs)
    try:
        async with db.transaction() as conn:
            await conn.run_sync(_upgrade, chosen, revision)
    except CommandError as exc:
        raise StorageError(f"migration failed: {first_line(str(exc))}") from exc


async def inspect_schema(url: str, specs: Iterable[StoreSpec[Any]] | None = None) -> SchemaStatus:
    """Current and head revisions of the database at `url` (changes nothing)."""
    db = Database(url)
    try:
        require_file(db, create=False)
        return await status(db, specs)
    finally:
        await db.close()


async def upgrade_schema(
    url: str, *, create: bool = True, specs: Iterable[StoreSpec[Any]] | None = None
) -> tuple[SchemaStatus, SchemaStatus]:
    """Migrate the database at `url` to the heads; returns the status before and after."""
    db = Database(url)
    try:
        require_file(db, create=create)
        before = await status(db, specs)
        if not before.is_current:
            await upgrade(db, specs=specs)
        return before, await status(db, specs)
    finally:
        await db.close()
