"""Migration evidence: golden runs reported to phased, old/new mismatch samples.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "golden_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("flag", sa.String(64), nullable=True),
        sa.Column("build", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.Column("stage", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        comment="Golden runs reported to phased (evidence for stage requirements).",
    )
    op.create_index("ix_golden_runs_suite", "golden_runs", ["suite", "id"])
    op.create_table(
        "compare_mismatches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("old", sa.JSON, nullable=True),
        sa.Column("new", sa.JSON, nullable=True),
        sa.Column("diff", sa.JSON, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        comment="Old/new mismatch samples, bounded per flag; resolved ones stop counting.",
    )
    op.create_index("ix_compare_mismatches_flag", "compare_mismatches", ["flag", "id"])


def downgrade() -> None:
    op.drop_index("ix_compare_mismatches_flag", "compare_mismatches")
    op.drop_table("compare_mismatches")
    op.drop_index("ix_golden_runs_suite", "golden_runs")
    op.drop_table("golden_runs")
