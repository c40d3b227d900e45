"""Metric source queries, hook runs and inbound alert triggers (issue 12).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "source_queries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "rollout_id",
            sa.Integer,
            sa.ForeignKey("rollouts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("check_key", sa.String(500), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_source_queries_rollout_key", "source_queries", ["rollout_id", "check_key", "id"]
    )
    op.create_table(
        "hook_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "rollout_id",
            sa.Integer,
            sa.ForeignKey("rollouts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("transition", sa.String(300), nullable=False),
        sa.Column("hook", sa.String(200), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("rollout_id", "transition", "hook", name="uq_hook_runs_transition"),
    )
    op.create_table(
        "alert_triggers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("match", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("flag", "name", name="uq_alert_triggers_flag_name"),
    )


def downgrade() -> None:
    op.drop_table("alert_triggers")
    op.drop_table("hook_runs")
    op.drop_index("ix_source_queries_rollout_key", table_name="source_queries")
    op.drop_table("source_queries")
