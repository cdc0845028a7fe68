"""The pubsub store's tables, on its own branch ``pubsub`` after the core revision 0001.

Revision ID: p001
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "p001"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = ("pubsub",)
depends_on: str | None = None

OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create(name: str, *columns: sa.Column[object], unique: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column("id", _serial(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(320), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")),
        **OPTIONS,
    )
    op.create_index(op.f(f"ix_{name}_owner"), name, ["owner"])


def upgrade() -> None:
    _create(
        "pubsub_nodes",
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        unique=("service", "node"),
    )
    _create(
        "pubsub_affiliations",
        sa.Column("node_id", sa.BigInteger, nullable=False),
        sa.Column("affiliation", sa.String(16), nullable=False),
        unique=("node_id", "owner"),
    )
    _create(
        "pubsub_subscriptions",
        sa.Column("node_id", sa.BigInteger, nullable=False),
        sa.Column("jid", sa.String(320), nullable=False),
        sa.Column("subid", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        unique=("node_id", "jid"),
    )
    _create(
        "pubsub_items",
        sa.Column("node_id", sa.BigInteger, nullable=False),
        sa.Column("item_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        unique=("node_id", "item_id"),
    )


def downgrade() -> None:
    for name in ("pubsub_items", "pubsub_subscriptions", "pubsub_affiliations", "pubsub_nodes"):
        op.drop_table(name)
