"""Archived flags: a deleted flag is kept (definition and states) and can be restored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archived_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False, comment="The Flag with its environments"),
        sa.Column("archived_by", sa.String(200), nullable=False),
        sa.Column("archived_at", UTCDateTime, nullable=False),
        sa.Index("ix_archived_flags_key", "key"),
        comment="Deleted flags, newest last; restoring one moves it back to flags.",
    )


def downgrade() -> None:
    op.drop_table("archived_flags")
