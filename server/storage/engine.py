"""Open the storage behind a URL: `open_storage(url)` → `Storage`, the core stores plus every feature store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tigase_py.server.storage import schema_process
from tigase_py.server.storage.account import purger
from tigase_py.server.storage.database import Database, Timeouts
from tigase_py.server.storage.errors import StorageError, StorageUnavailable, UserExists, UserNotFound
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import Exported, StoreSpec, sql_stores
from tigase_py.server.storage.users import SCRAM_ITERATIONS, UserStore
from tigase_py.server.storage.vhosts import VhostStore

__all__ = [
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "Timeouts",
    "UserExists",
    "UserNotFound",
    "open_storage",
]

P = TypeVar("P")


class Storage:
    """The core stores (`users`, `vhosts`) and one SQL store per StoreSpec over one database.

    Feature stores are reached by `storage.store(SPEC)`; close it all with `await storage.close()`.
    """

    def __init__(
        self,
        db: Database,
        *,
        scram_iterations: int = SCRAM_ITERATIONS,
        specs: Iterable[StoreSpec[Any]] | None = None,
    ) -> None:
        self.db = db
        self.stores = sql_stores(db, discover() if specs is None else specs)
        self.users = UserStore(db, purger(self.stores), iterations=scram_iterations)
        self.vhosts = VhostStore(db)

    def store(self, spec: StoreSpec[P]) -> P:
        return self.stores.get(spec)

    async def delete_user_data(self, owner: str) -> None:
        """Remove every row of the account `owner` ("user@domain") in one transaction."""
        async with self.db.transaction() as conn:
            await purger(self.stores)(conn, owner)

    async def export_account(self, owner: str) -> dict[str, Exported]:
        """What every feature store keeps for `owner`, by store name (JSON values)."""
        return await self.stores.export_account(owner)

    async def ping(self) -> bool:
        return await self.db.ping()

    async def close(self) -> None:
        await self.db.close()


async def open_storage(
    url: str,
    *,
    create: bool = False,
    scram_iterations: int = SCRAM_ITERATIONS,
    timeouts: Timeouts = Timeouts(),
    specs: Iterable[StoreSpec[Any]] | None = None,
    schema_ready: bool = False,
) -> Storage:
    """Connect to `url`; with `create`, migrate to head first, else require the schema at head.

    `specs` (default: every store in `tigase_py.server.stores`) decides which stores' migrations run
    and which stores account deletion and export ask. `schema_ready`: the caller did the migration or
    check already (``schema_process.prepare_in_child``, as the server does so as not to import Alembic);
    then only the connection is opened.
    """
    chosen = tuple(discover() if specs is None else specs)
    db = Database(url, timeouts)
    try:
        if not schema_ready:
            await schema_process.prepare(db, create=create, specs=chosen)
    except BaseException:
        await db.close()
        raise
    return Storage(db, scram_iterations=scram_iterations, specs=chosen)
