"""Hot SQLite reads in one driver call: a Core SELECT compiled once, run on a read-only connection.

Even inline (see `inline`), a SELECT through SQLAlchemy's engine spends about 0.3 ms of CPU on
checkout, BEGIN, result set-up and the reset on return; the credentials read of every login does not
need any of it. `SqliteReader` compiles each statement once per statement object and runs it with one
`sqlite3` call on its own connection, opened with `query_only` so it can never write; WAL mode lets it
read while another connection writes.

Statements with expanding (IN-list) parameters are not taken; `Database.fetch_all` runs those through
the engine, as it does for every other backend and for in-memory SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

Processor = Callable[[Any], Any] | None
MAX_STATEMENTS = 256  # prepared statements are module constants; a statement built per call is not kept


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """The SQL text, the order of its parameters and the type conversions SQLAlchemy would apply."""

    statement: sa.Select[Any]  # kept so the id() used as cache key is never reused
    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    bind_processors: tuple[Processor, ...]
    result_processors: tuple[Processor, ...]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        merged = {**self.defaults, **values}
        out = []
        for name, process in zip(self.names, self.bind_processors, strict=True):
            value = merged[name]
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not any(self.result_processors):
            return tuple(raw)
        return tuple(
            process(value) if process is not None else value
            for value, process in zip(raw, self.result_processors, strict=True)
        )


def compile_read(statement: sa.Select[Any], dialect: sa.Dialect) -> CompiledRead | None:
    """Compile `statement` for `dialect`; None when it needs what one positional call cannot give."""
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None or any(bind.expanding for bind in compiled.binds.values()):
        return None
    binds = compiled.binds
    return CompiledRead(
        statement=statement,
        sql=compiled.string,
        names=tuple(names),
        defaults={name: bind.value for name, bind in binds.items() if bind.value is not None},
        bind_processors=tuple(binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names),
        result_processors=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        ),
    )


class SqliteReader:
    """A read-only `sqlite3` connection to one database file, opened on first use."""

    def __init__(self, path: Path, dialect: sa.Dialect, busy_timeout_ms: int) -> None:
        self.path = path
        self.dialect = dialect
        self.busy_timeout_ms = busy_timeout_ms
        self._compiled: dict[int, CompiledRead | None] = {}
        self._connection: sqlite3.Connection | None = None
        self.trace: Callable[[str], None] | None = None  # sees each SQL text run here (tests count reads)

    def compiled(self, statement: sa.Select[Any]) -> CompiledRead | None:
        """The compiled form of a module-level statement (values come as bind parameters)."""
        key = id(statement)
        if key in self._compiled:
            return self._compiled[key]
        compiled = compile_read(statement, self.dialect)
        if len(self._compiled) < MAX_STATEMENTS:
            self._compiled[key] = compiled
        return compiled

    def fetch_all(self, compiled: CompiledRead, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        connection = self._connection or self._open()
        if self.trace is not None:
            self.trace(compiled.sql)
        rows = connection.execute(compiled.sql, compiled.parameters(values)).fetchall()
        return [compiled.row(raw) for raw in rows]

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
        try:
            connection.execute("PRAGMA query_only=ON")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
