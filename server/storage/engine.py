"""Open the storage behind a URL: `open_storage(url)` → `Storage` with one attribute per store."""

from __future__ import annotations

from tigase_py.server.storage import schema_process
from tigase_py.server.storage.account import purge
from tigase_py.server.storage.blocking import BlockingStore
from tigase_py.server.storage.database import Database, Timeouts
from tigase_py.server.storage.errors import StorageError, StorageUnavailable, UserExists, UserNotFound
from tigase_py.server.storage.last_activity import LastActivityStore
from tigase_py.server.storage.offline import OfflineStore
from tigase_py.server.storage.roster import RosterStore
from tigase_py.server.storage.user_xml import UserXmlStore
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


class Storage:
    """All stores over one database; close it with `await storage.close()`."""

    def __init__(self, db: Database, *, scram_iterations: int = SCRAM_ITERATIONS) -> None:
        self.db = db
        self.users = UserStore(db, purge, iterations=scram_iterations)
        self.vhosts = VhostStore(db)
        self.roster = RosterStore(db)
        self.offline = OfflineStore(db)
        self.user_xml = UserXmlStore(db)
        self.blocking = BlockingStore(db)
        self.last_activity = LastActivityStore(db)

    async def delete_user_data(self, owner: str) -> None:
        """Remove every row of the account `owner` ("user@domain") in one transaction."""
        async with self.db.transaction() as conn:
            await purge(conn, owner)

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
    schema_ready: bool = False,
) -> Storage:
    """Connect to `url`; with `create`, migrate to head first, else require the schema at head.

    `schema_ready`: the caller did that already (``schema_process.prepare_in_child``, as the server does
    so as not to import Alembic); then only the connection is opened."""
    db = Database(url, timeouts)
    try:
        if not schema_ready:
            await schema_process.prepare(db, create=create)
    except BaseException:
        await db.close()
        raise
    return Storage(db, scram_iterations=scram_iterations)
