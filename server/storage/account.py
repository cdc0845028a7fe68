"""Account deletion across every store: the feature stores' rows, then the account and its credentials."""

from __future__ import annotations

import sqlalchemy as sa

from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.spec import Stores
from tigase_py.server.storage.users import Purge, user_credentials, users


def purger(stores: Stores) -> Purge:
    """The `purge` a `UserStore` runs inside its delete transaction, asking every store in `stores`."""

    async def purge(conn: SqlConnection, owner: str) -> bool:
        """Delete the account `owner` ("user@domain") and all its data; True if the account existed.

        Runs on the caller's connection, so it is part of the caller's transaction.
        """
        await stores.delete_account(owner, conn)
        return await delete_account_row(conn, owner)

    return purge


async def delete_account_row(conn: SqlConnection, owner: str) -> bool:
    username, _, domain = owner.partition("@")
    user_ids = sa.select(users.c.id).where(users.c.domain == domain, users.c.username == username)
    found = (await conn.scalars(user_ids)).all()
    if not found:
        return False
    await conn.execute(sa.delete(user_credentials).where(user_credentials.c.user_id.in_(found)))
    await conn.execute(sa.delete(users).where(users.c.id.in_(found)))
    return True
