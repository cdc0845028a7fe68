"""A store declared by a test: its own table, on its own branch after the core revision 0001.

Revision ID: n001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "n001"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = ("notes",)
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "test_notes",
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_test_notes")),
    )


def downgrade() -> None:
    op.drop_table("test_notes")
