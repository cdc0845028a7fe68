"""The store contract: a `StoreSpec[P]` names a feature's store Protocol and builds its implementations.

A feature store is one file under `tigase_py.server.stores` (see `server/storage/README.md`):
- a `typing.Protocol` P of what the feature needs, which extends `AccountData`;
- a SQL implementation built from the shared `Database` (SQLite and MariaDB through SQLAlchemy Core);
- an in-memory implementation for fast unit tests;
- one module-level `StoreSpec[P]` tying them together, with its tables and, if the store changes
  its schema after `0001_initial`, its own Alembic version folder and branch.

Account deletion and export ask every registered store through `AccountData`, so no central list
names the per-account tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import sqlalchemy as sa

from tigase_py.server.storage.database import Database, SqlConnection
from tigase_py.server.storage.errors import StorageError

P = TypeVar("P")
# What `export_account` returns: plain JSON values (dicts, lists, strings, numbers, None).
Exported = Any


@runtime_checkable
class AccountData(Protocol):
    """The account-data part every store Protocol extends."""

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        """Remove every row of `owner` ("user@domain"). SQL stores run on `conn`, the caller's
        transaction, so deletion across stores is atomic; memory stores get None."""

    async def export_account(self, owner: str) -> Exported:
        """Everything the store keeps for `owner`, as JSON values."""


@dataclass(frozen=True, eq=False)
class StoreSpec(Generic[P]):
    """One feature store. Declare it typed, `ROSTER = StoreSpec[RosterStore](...)`, so
    `ctx.store(ROSTER)` is a `RosterStore` to the type checker.

    `protocol` is the runtime-checkable Protocol (contract tests check both implementations against
    it); `tables` are the store's tables on the shared metadata (default: the SQL class's `tables`);
    `migrations` is an Alembic version folder whose revisions carry the branch label `branch`
    (default: `name`).
    """

    name: str
    protocol: type
    sql: Callable[[Database], P]
    memory: Callable[[], P]
    tables: tuple[sa.Table, ...] = ()
    migrations: Path | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        if not self.tables:
            object.__setattr__(self, "tables", tuple(getattr(self.sql, "tables", ())))

    @property
    def branch_label(self) -> str:
        return self.branch or self.name

    def __repr__(self) -> str:
        return f"StoreSpec({self.name!r})"


class Stores:
    """One instance per StoreSpec; iterating gives (spec, store) pairs in the order of `specs`.

    With `extensible` (memory stores), a spec seen for the first time is built then and joins
    deletion and export; SQL stores refuse it, since its tables were not migrated.
    """

    def __init__(
        self, build: Callable[[StoreSpec[Any]], object], specs: Iterable[StoreSpec[Any]], *, extensible: bool
    ) -> None:
        self._build = build
        self._stores: dict[StoreSpec[Any], object] = {}
        for spec in specs:
            self._add(spec)
        self._extensible = extensible

    def get(self, spec: StoreSpec[P]) -> P:
        found = self._stores.get(spec)
        if found is None:
            if not self._extensible:
                raise StorageError(f"store {spec.name!r} is not registered: open the storage with it in `specs`")
            found = self._add(spec)
        return found  # type: ignore[return-value]  # built by spec.sql/spec.memory, so a P

    def _add(self, spec: StoreSpec[Any]) -> object:
        if any(known.name == spec.name for known in self._stores):
            raise ValueError(f"two stores are named {spec.name!r}")
        store = self._stores[spec] = self._build(spec)
        return store

    def __iter__(self) -> Iterator[tuple[StoreSpec[Any], AccountData]]:
        for spec, store in list(self._stores.items()):
            yield spec, cast(AccountData, store)  # every store Protocol extends AccountData

    @property
    def specs(self) -> tuple[StoreSpec[Any], ...]:
        return tuple(self._stores)

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        for _, store in self:
            await store.delete_account(owner, conn)

    async def export_account(self, owner: str) -> dict[str, Exported]:
        return {spec.name: await store.export_account(owner) for spec, store in self}


def sql_stores(db: Database, specs: Iterable[StoreSpec[Any]]) -> Stores:
    return Stores(lambda spec: spec.sql(db), specs, extensible=False)


def memory_stores(specs: Iterable[StoreSpec[Any]]) -> Stores:
    return Stores(lambda spec: spec.memory(), specs, extensible=True)
