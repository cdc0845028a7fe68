"""Every table that holds rows of an account, and `purge`, which removes all of them."""

from __future__ import annotations

import sqlalchemy as sa

from tigase_py.server.storage.blocking import blocked_jids
from tigase_py.server.storage.database import SqlConnection
from tigase_py.server.storage.last_activity import last_activity
from tigase_py.server.storage.offline import offline_messages
from tigase_py.server.storage.roster import roster_items, roster_versions
from tigase_py.server.storage.user_xml import user_xml
from tigase_py.server.storage.users import user_credentials, users

# Tables keyed by the owner's bare JID. A new per-account table must be added here.
OWNER_TABLES: tuple[sa.Table, ...] = (
    roster_items,
    roster_versions,
    offline_messages,
    user_xml,
    blocked_jids,
    last_activity,
)


async def purge(conn: SqlConnection, owner: str) -> bool:
    """Delete the account `owner` ("user@domain") and all its data; True if the account existed.

    Runs on the caller's connection, so it is part of the caller's transaction.
    """
    username, _, domain = owner.partition("@")
    for table in OWNER_TABLES:
        await conn.execute(sa.delete(table).where(table.c.owner == owner))
    user_ids = sa.select(users.c.id).where(users.c.domain == domain, users.c.username == username)
    found = (await conn.scalars(user_ids)).all()
    if not found:
        return False
    await conn.execute(sa.delete(user_credentials).where(user_credentials.c.user_id.in_(found)))
    await conn.execute(sa.delete(users).where(users.c.id.in_(found)))
    return True
