"""Database URLs and the async engine wrapper every store talks through.

`Database.transaction()`, `Database.connection()` and `Database.fetch_all()` (hot reads) are the only
doors to SQL: each turns any SQLAlchemy or driver exception into a one-line `StorageError`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tigase_py.server.storage.errors import InvalidStorageUrl, StorageError, StorageUnavailable, Target, translate
from tigase_py.server.storage.inline import InlineConnection
from tigase_py.server.storage.sqlite_reads import SqliteReader

if TYPE_CHECKING:
    # Imported when first used: a server on a SQLite file never needs the asyncio extension (which loads
    # SQLAlchemy's ORM, about 7 MB).
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

SQLITE_DRIVER = "sqlite+aiosqlite"
MYSQL_DRIVER = "mysql+asyncmy"
DRIVERS = {
    "sqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
    "mysql": MYSQL_DRIVER,
    "mysql+asyncmy": MYSQL_DRIVER,
    "mariadb": MYSQL_DRIVER,
    "mariadb+asyncmy": MYSQL_DRIVER,
}
SQLITE_BUSY_TIMEOUT_MS = 5000  # waits for writers in other processes (the CLI while the server runs)
WRITE_QUEUE_TIMEOUT_S = 60.0  # the longest a SQLite write waits behind this process's other writes
MYSQL_POOL_RECYCLE_S = 3600
WRITE_OPTION = "tigase_write"
URL_HELP = "use sqlite:///path/to/file.db or mysql://user:password@host:port/database"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a networked database may keep a caller waiting, in seconds (`[storage]` in the config).

    `operation` bounds one whole `transaction()`/`connection()`/`fetch_all()`: the wait for a pooled
    connection, connecting, every statement and the commit. `connect` bounds the TCP connect and the
    login handshake; a statement read that stalls longer than `operation` drops its connection.
    `ping` bounds the health probe. SQLite files ignore them (statements run inline, see `inline`).
    """

    operation: float = 5.0
    connect: float = 3.0
    ping: float = 2.0


def normalise_url(url: str, *, require_database: bool = True) -> URL:
    """Parse `url` and map the sync spellings (sqlite://, mysql://, mariadb://) to async drivers."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise InvalidStorageUrl(f"invalid database URL: {exc}; {URL_HELP}") from exc
    driver = DRIVERS.get(parsed.drivername)
    if driver is None:
        raise InvalidStorageUrl(f"unsupported database URL scheme {parsed.drivername!r}; {URL_HELP}")
    parsed = parsed.set(drivername=driver)
    if driver == MYSQL_DRIVER:
        if require_database and not parsed.database:
            raise InvalidStorageUrl(f"database URL names no database; {URL_HELP}")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def target_of(url: URL) -> Target:
    if url.get_backend_name() == "sqlite":
        return Target("sqlite", url.database or ":memory:")
    return Target("mysql", f"{url.host or 'localhost'}:{url.port or 3306}")


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not emit BEGIN itself: `_begin_sqlite` does, so writers can lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    """BEGIN IMMEDIATE for write transactions: a deferred reader that later writes would fail with
    SQLITE_BUSY at once under concurrency, while an immediate one waits out busy_timeout."""
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def build_engine(url: URL, timeouts: Timeouts = Timeouts()) -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
        return engine
    # pre_ping replaces connections that died while pooled (a database restart) before they are used;
    # the driver's read timeout turns a database that stopped answering into an error, not a hang.
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=MYSQL_POOL_RECYCLE_S,
        pool_timeout=timeouts.operation,
        connect_args={"connect_timeout": max(1, round(timeouts.connect)), "read_timeout": timeouts.operation},
    )


def build_inline_engine(url: URL) -> sa.Engine | None:
    """For a SQLite file, the sync engine whose statements run inline (see `inline`); else None."""
    if sqlite_path(url) is None:
        return None  # an in-memory database exists once per connection: keep to the async engine's
    engine = sa.create_engine(url.set(drivername="sqlite+pysqlite"))
    event.listen(engine, "connect", _set_sqlite_pragmas)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


# What the stores receive from `transaction()` and `connection()`.
SqlConnection: TypeAlias = "AsyncConnection | InlineConnection"


class Database:
    """An async engine plus error translation; shared by all stores of one `Storage`.

    On a SQLite file, `transaction()` and `connection()` give inline connections of a sync engine, and
    write transactions take turns on `_writers` (SQLite admits one writer; an inline statement must
    never wait for a lock this process holds, or the event loop would stop).
    """

    def __init__(self, url: str | URL, timeouts: Timeouts = Timeouts()) -> None:
        self.url = url if isinstance(url, URL) else normalise_url(url)
        self.target = target_of(self.url)
        self.timeouts = timeouts
        self._engine: AsyncEngine | None = None
        self.inline = build_inline_engine(self.url)
        path = sqlite_path(self.url)
        self.reader = SqliteReader(path, self.inline.dialect, SQLITE_BUSY_TIMEOUT_MS) if self.inline and path else None
        # Writers of this process queue here instead of sleeping in SQLite's busy handler.
        self._writers = asyncio.Lock() if self.url.get_backend_name() == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, built on first use (a SQLite file's statements go through `inline`)."""
        if self._engine is None:
            self._engine = build_engine(self.url, self.timeouts)
        return self._engine

    @property
    def sql_engine(self) -> sa.Engine:
        """The sync engine whose events see the statements of `transaction()` and `connection()`."""
        return self.inline if self.inline is not None else self.engine.sync_engine

    @property
    def dialect(self) -> str:
        return self.sql_engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        if self._writers is None:
            async with self._open(write=True) as conn:
                yield conn
            return
        try:
            async with asyncio.timeout(WRITE_QUEUE_TIMEOUT_S):
                await self._writers.acquire()
        except TimeoutError:
            raise StorageError(
                f"database error ({self.target}): no write turn in {WRITE_QUEUE_TIMEOUT_S:.0f}s"
            ) from None
        try:
            async with self._open(write=True) as conn:
                yield conn
        finally:
            self._writers.release()

    def connection(self) -> AbstractAsyncContextManager[SqlConnection]:
        """A connection for reads (autobegin; nothing is committed)."""
        return self._open(write=False)

    @asynccontextmanager
    async def _open(self, *, write: bool) -> AsyncIterator[SqlConnection]:
        """A connection; with `write`, marked as a writer (BEGIN IMMEDIATE on SQLite) and in a transaction."""
        if self.inline is not None:
            try:
                with self.inline.connect() as sync:
                    if not write:
                        yield InlineConnection(sync)
                        return
                    sync.execution_options(**{WRITE_OPTION: True})
                    with sync.begin():
                        yield InlineConnection(sync)
            except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
                raise translate(self.target, exc) from exc
            return
        try:
            async with self._bounded(), self.engine.connect() as conn:
                if not write:
                    yield conn
                    return
                conn = await conn.execution_options(**{WRITE_OPTION: True})
                async with conn.begin():
                    yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise translate(self.target, exc) from exc

    @asynccontextmanager
    async def _bounded(self, limit: float | None = None) -> AsyncIterator[None]:
        """Fail with `StorageUnavailable` when the body runs past `limit` (default: the operation timeout)."""
        limit = self.timeouts.operation if limit is None else limit
        try:
            async with asyncio.timeout(limit) as scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise
            raise StorageUnavailable(f"{self.target} did not answer within {limit:g}s") from None

    async def fetch_all(
        self, statement: sa.Select[Any], values: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows of a read-only SELECT whose varying values are bind parameters (`sa.bindparam`).

        On a SQLite file this is one call on a read-only connection (see `sqlite_reads`); elsewhere it
        runs through the engine. Pass module-level statements: each is compiled once.
        """
        values = values or {}
        compiled = self.reader.compiled(statement) if self.reader is not None else None
        if self.reader is not None and compiled is not None:
            try:
                return self.reader.fetch_all(compiled, values)
            except (sqlite3.Error, OSError) as exc:
                raise translate(self.target, exc) from exc
        async with self.connection() as conn:
            return [tuple(row) for row in await conn.execute(statement, dict(values))]

    async def ping(self) -> bool:
        """One cheap `SELECT 1`, bounded by the ping timeout: True when the database answered."""
        try:
            async with self._bounded(self.timeouts.ping), self.connection() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except StorageError:
            return False
        return True

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.inline is not None:
            self.inline.dispose()
        if self._engine is not None:
            await self._engine.dispose()
