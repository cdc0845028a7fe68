"""The hello module's table, on its own branch ``hello`` after the core revision 0001.

Revision ID: h001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "h001"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = ("hello",)
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "hello_greetings",
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("greeting", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_hello_greetings")),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def downgrade() -> None:
    op.drop_table("hello_greetings")
