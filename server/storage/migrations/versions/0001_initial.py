"""Initial schema: vhosts, users + SCRAM credentials, roster, offline, user XML, blocking, last activity.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the model's settings: a migration must not change when the models do.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
JID = 320


def large_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")


def key_bytes() -> sa.types.TypeEngine[bytes]:
    return sa.LargeBinary().with_variant(mysql.VARBINARY(255), "mysql")


def upgrade() -> None:
    op.create_table(
        "vhosts",
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_vhosts")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("domain", "username", name=op.f("uq_users_domain_username")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "user_credentials",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("hash_name", sa.String(16), nullable=False),
        sa.Column("salt", key_bytes(), nullable=False),
        sa.Column("stored_key", key_bytes(), nullable=False),
        sa.Column("server_key", key_bytes(), nullable=False),
        sa.Column("iterations", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_credentials_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "hash_name", name=op.f("pk_user_credentials")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "roster_items",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("jid", sa.String(JID), nullable=False),
        sa.Column("name", sa.String(1023), nullable=True),
        sa.Column("subscription", sa.String(4), nullable=False),
        sa.Column("ask", sa.Boolean, nullable=False),
        sa.Column("pending_in", sa.Boolean, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("group_names", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_items")),
        sa.UniqueConstraint("owner", "jid", name=op.f("uq_roster_items_owner_jid")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "roster_versions",
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_roster_versions")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "offline_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("xml", large_text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_messages")),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_offline_messages_owner"), "offline_messages", ["owner"])
    op.create_table(
        "user_xml",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item_key", sa.String(255), nullable=False),
        sa.Column("xml", large_text(), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_xml")),
        sa.UniqueConstraint("owner", "kind", "item_key", name=op.f("uq_user_xml_owner_kind_item_key")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "blocked_jids",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("jid", sa.String(JID), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_jids")),
        sa.UniqueConstraint("owner", "jid", name=op.f("uq_blocked_jids_owner_jid")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "last_activity",
        sa.Column("owner", sa.String(JID), nullable=False),
        sa.Column("seconds", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_last_activity")),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    for table in (
        "last_activity",
        "blocked_jids",
        "user_xml",
        "offline_messages",
        "roster_versions",
        "roster_items",
        "user_credentials",
        "users",
        "vhosts",
    ):
        op.drop_table(table)
