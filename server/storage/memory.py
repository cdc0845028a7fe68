"""In-memory feature stores for fast unit tests: their base (one value per account) and `MemoryStorage`.

Each call completes without awaiting anything, so it is atomic on the event loop, as a SQL
transaction is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import Exported, StoreSpec, memory_stores

P = TypeVar("P")
V = TypeVar("V")


class MemoryOwnerStore(Generic[V]):
    """Keeps one `V` per owner bare JID in `self._owners`."""

    def __init__(self) -> None:
        self._owners: dict[str, V] = {}

    async def delete_account(self, owner: str, conn: SqlConnection | None) -> None:
        self._owners.pop(owner, None)


class MemoryStorage:
    """Every feature store in memory, reached as on `Storage`: `store(SPEC)`; for fast unit tests."""

    def __init__(self, specs: Iterable[StoreSpec[Any]] | None = None) -> None:
        self.stores = memory_stores(discover() if specs is None else specs)

    def store(self, spec: StoreSpec[P]) -> P:
        return self.stores.get(spec)

    async def delete_user_data(self, owner: str) -> None:
        await self.stores.delete_account(owner, None)

    async def export_account(self, owner: str) -> dict[str, Exported]:
        return await self.stores.export_account(owner)
