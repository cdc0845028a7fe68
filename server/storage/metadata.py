"""The shared MetaData: every table of every store is declared on it, with named constraints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Binary collation: JIDs arrive normalised, and accent-insensitive collations would merge
# distinct accounts ("rené" and "rene"). Only DDL uses them, and checking them loads SQLAlchemy's MySQL
# dialect, so tables are declared without them and `with_table_options` adds them where DDL is rendered
# (the Alembic environment).
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

# Column lengths: an owner or contact bare JID pair must fit one InnoDB index (3072 bytes,
# 4 bytes per utf8mb4 character).
JID_LENGTH = 320
DOMAIN_LENGTH = 255
USERNAME_LENGTH = 255

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def with_table_options(target: sa.MetaData = metadata) -> sa.MetaData:
    """Give every table of `target` the MySQL `TABLE_OPTIONS` (InnoDB, utf8mb4, binary collation)."""
    for table in target.tables.values():
        table.dialect_kwargs.update(TABLE_OPTIONS)
    return target


class LargeText(sa.types.TypeDecorator[str]):
    """Text that may hold large XML: MEDIUMTEXT (16 MiB) on MySQL, TEXT elsewhere.

    The MySQL type is looked up only when the dialect is MySQL, so a server on SQLite never imports
    SQLAlchemy's MySQL dialect (about 1 MB)."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import MEDIUMTEXT

            return dialect.type_descriptor(MEDIUMTEXT())
        return dialect.type_descriptor(sa.Text())


def large_text() -> sa.types.TypeEngine[str]:
    """Text that may hold large XML: MEDIUMTEXT (16 MiB) on MySQL."""
    return LargeText()


def serial() -> sa.types.TypeEngine[int]:
    """A 64-bit auto-increment key that is still SQLite's INTEGER PRIMARY KEY rowid alias."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> datetime:
    """Naive UTC, as stored in DateTime columns on every backend."""
    return datetime.now(UTC).replace(tzinfo=None)


def key_bytes() -> sa.types.TypeEngine[bytes]:
    """Short binary values (salts, SCRAM keys): VARBINARY(255) on MySQL."""
    return sa.LargeBinary().with_variant(sa.VARBINARY(255), "mysql")


def owner_table(
    name: str,
    *columns: sa.Column[Any],
    unique: tuple[str, ...] | None = None,
    id_type: sa.types.TypeEngine[int] | type[sa.Integer] = sa.Integer,
) -> sa.Table:
    """A table of per-account rows: an auto-increment `id`, the `owner` bare JID, then `columns`.

    With `unique`, (owner, *unique) is a unique key (which also indexes owner); without, owner gets
    its own index.
    """
    constraints = [sa.UniqueConstraint("owner", *unique)] if unique is not None else []
    return sa.Table(
        name,
        metadata,
        sa.Column("id", id_type, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(JID_LENGTH), nullable=False, index=unique is None),
        *columns,
        *constraints,
    )


def owner_keyed_table(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table of one row per account, keyed by the `owner` bare JID."""
    owner = sa.Column("owner", sa.String(JID_LENGTH), primary_key=True)
    return sa.Table(name, metadata, owner, *columns)
