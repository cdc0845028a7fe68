"""Create a MySQL/MariaDB database and a dedicated account for it, as an administrator.

Like Tigase's schema installer: the server then connects with the dedicated account only.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import URL

from tigase_py.server.storage.database import Database, normalise_url

DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")
# '%' for remote clients; 'localhost' so an anonymous ''@'localhost' cannot shadow the account.
ACCOUNT_HOSTS = ("%", "localhost")


def check_names(db_name: str, db_user: str) -> None:
    """Raise ValueError for names that would need quoting beyond what we allow."""
    if not DATABASE_NAME.fullmatch(db_name):
        raise ValueError(f"invalid database name {db_name!r}: use 1-64 letters, digits or _")
    if not ACCOUNT_NAME.fullmatch(db_user):
        raise ValueError(f"invalid database user {db_user!r}: use 1-80 letters, digits, _ . or -")


def account_url(admin_url: URL, db_name: str, db_user: str, db_password: str) -> URL:
    return admin_url.set(username=db_user, password=db_password, database=db_name)


async def provision_mysql(admin_url: str, db_name: str, db_user: str, db_password: str) -> URL:
    """Create `db_name` and `db_user` (idempotent; resets the password); returns the account's URL."""
    check_names(db_name, db_user)
    admin = normalise_url(admin_url, require_database=False)
    if admin.get_backend_name() != "mysql":
        raise ValueError("--admin-url must be a mysql:// or mariadb:// URL")
    db = Database(admin.set(database=None))
    try:
        async with db.transaction() as conn:
            await conn.execute(
                sa.text(f"CREATE DATABASE IF NOT EXISTS `{db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            )
            for host in ACCOUNT_HOSTS:
                account = f"'{db_user}'@'{host}'"
                password = {"password": db_password}
                await conn.execute(sa.text(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY :password"), password)
                await conn.execute(sa.text(f"ALTER USER {account} IDENTIFIED BY :password"), password)
                await conn.execute(sa.text(f"GRANT ALL PRIVILEGES ON `{db_name}`.* TO {account}"))
    finally:
        await db.close()
    return account_url(admin, db_name, db_user, db_password)
