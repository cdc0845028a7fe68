"""SQLite statements run where they are awaited, on the event loop's thread.

Through aiosqlite every statement is three or four hand-offs to a worker thread, and a roster write
(BEGIN IMMEDIATE, upsert, version bump, version read, COMMIT) cost about 3.5 ms of CPU: 280 writes a
second, too few for a subscription storm. On a SQLite file in WAL mode with `synchronous=NORMAL` a
statement finishes in microseconds without waiting for the disk, so the embedded backend runs a sync
SQLAlchemy engine inline instead, the way Prosody's file storage runs on its one thread.

`InlineConnection` offers the calls the stores make on an `AsyncConnection` (`execute`, `scalar`,
`scalars`, `exec_driver_sql`, `run_sync`, `dialect`); `Database` hands one out for SQLite files and
serialises writers, so no statement ever waits for a lock held by this process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa

P = ParamSpec("P")
T = TypeVar("T")


class InlineConnection:
    """A sync connection behind the awaitable calls of `AsyncConnection`; each call completes at once."""

    __slots__ = ("sync",)

    def __init__(self, sync: sa.Connection) -> None:
        self.sync = sync

    @property
    def dialect(self) -> sa.Dialect:
        return self.sync.dialect

    async def execute(self, statement: sa.Executable, parameters: Any = None) -> sa.CursorResult[Any]:
        return self.sync.execute(statement, parameters)

    async def scalar(self, statement: sa.Executable, parameters: Any = None) -> Any:
        return self.sync.scalar(statement, parameters)

    async def scalars(self, statement: sa.Executable, parameters: Any = None) -> sa.ScalarResult[Any]:
        return self.sync.scalars(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> sa.CursorResult[Any]:
        return self.sync.exec_driver_sql(statement, parameters)

    async def run_sync(self, fn: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(self.sync, *args, **kwargs)
