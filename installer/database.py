"""Which database the installed server uses, and which account ``--db-admin-url`` creates for it.

With ``--db-admin-url`` (or ``--install-mariadb``, whose root logs in through the local socket) the
host creates the database and a dedicated account (``tigase-py db init --admin-url``) and the server
connects with that account:

- ``--db mysql://user:pw@host:port/name`` given as well: that account, on that database;
- else ``--db-name`` / ``--db-user`` / ``--db-password`` on the admin URL's host and port (the
  local MariaDB on 127.0.0.1:3306 with ``--install-mariadb``).

The password must be given: a generated one would change on every run, so a second run would not
be a no-op.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tigase_py.installer.options import InstallOptions

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MYSQL_SCHEMES = ("mysql", "mariadb")
LOCAL_MARIADB = ("127.0.0.1", 3306)  # where --install-mariadb's server listens (the packages' default)


def _parse(url: str, option: str, flag: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ValueError(f"{option}: not a database URL ({exc})") from None
    if parsed.get_backend_name() not in MYSQL_SCHEMES:
        raise ValueError(f"{option}: must be a mysql:// or mariadb:// URL to go with {flag}")
    return parsed


def resolve(options: InstallOptions) -> InstallOptions:
    """``options`` with the account and the server's URL filled in; raises ValueError when they do not fit."""
    if options.db_admin_url is None and not options.install_mariadb:
        return options
    flag = "--db-admin-url" if options.db_admin_url is not None else "--install-mariadb"
    if options.db_url is not None:
        server = _parse(options.db_url, "--db", flag)
        if not (server.database and server.username and server.password):
            raise ValueError(f"--db must name the user, the password and the database {flag} creates")
        return dataclasses.replace(
            options, db_name=server.database, db_user=server.username, db_password=server.password
        )
    if not options.db_password:
        raise ValueError(f"{flag} needs --db-password (or --db with the account's URL)")
    if options.db_admin_url is not None:
        host = _parse(options.db_admin_url, "--db-admin-url", flag)
    else:
        from sqlalchemy.engine import URL

        host = URL.create("mysql", host=LOCAL_MARIADB[0], port=LOCAL_MARIADB[1])
    server = host.set(username=options.db_user, password=options.db_password, database=options.db_name)
    return dataclasses.replace(options, db_url=server.render_as_string(hide_password=False))
