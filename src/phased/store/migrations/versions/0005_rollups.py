"""Outcome rollups: each stage run's windows merged up to a sealed slot (the engine's cache).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcome_rollups",
        sa.Column(
            "rollout_id",
            sa.Integer,
            sa.ForeignKey("rollouts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("run", sa.Integer, primary_key=True),
        sa.Column("arm", sa.String(16), primary_key=True),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("first_slot", sa.BigInteger, nullable=False),
        sa.Column("sealed_slot", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_outcome_rollups_flag_environment", "outcome_rollups", ["flag", "environment"]
    )


def downgrade() -> None:
    op.drop_index("ix_outcome_rollups_flag_environment", table_name="outcome_rollups")
    op.drop_table("outcome_rollups")
