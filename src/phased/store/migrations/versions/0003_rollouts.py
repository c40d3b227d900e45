"""Rollouts: plans and state, history, approvals, checklist ticks, members, incidents, outcomes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _rollout_fk(table: str, ondelete: str = "CASCADE", nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "rollout_id",
        sa.Integer,
        sa.ForeignKey("rollouts.id", ondelete=ondelete, name=f"fk_{table}_rollout_id_rollouts"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("plan_source", sa.Text, nullable=False),
        sa.Column("plan_path", sa.String(500), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("alerted", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_rollouts_flag", "rollouts", ["flag"])
    op.create_index("ix_rollouts_phase", "rollouts", ["phase"])
    op.create_table(
        "rollout_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _rollout_fk("rollout_history"),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("evaluations", sa.JSON, nullable=False),
        sa.Column("alerts", sa.JSON, nullable=False),
        sa.Column("waiting", sa.JSON, nullable=False),
    )
    op.create_index("ix_rollout_history_rollout_id_id", "rollout_history", ["rollout_id", "id"])
    op.create_table(
        "rollout_approvals",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _rollout_fk("rollout_approvals"),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "rollout_id", "stage", "actor", name="uq_rollout_approvals_rollout_id_stage_actor"
        ),
    )
    op.create_table(
        "rollout_checks",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _rollout_fk("rollout_checks"),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "rollout_id", "stage", "item", name="uq_rollout_checks_rollout_id_stage_item"
        ),
    )
    op.create_table(
        "members",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag", sa.String(64), nullable=False),
        _rollout_fk("incidents", ondelete="SET NULL", nullable=True),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("action", sa.String(16), nullable=True),
    )
    op.create_index("ix_incidents_flag", "incidents", ["flag"])
    op.create_table(
        "outcome_windows",
        sa.Column("flag", sa.String(64), primary_key=True),
        sa.Column("environment", sa.String(64), primary_key=True),
        sa.Column("arm", sa.String(16), primary_key=True),
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("slot", sa.BigInteger, primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_outcome_windows_flag_environment_slot",
        "outcome_windows",
        ["flag", "environment", "slot"],
    )
    op.create_table(
        "outcome_batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("windows", sa.Integer, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_outcome_batches_received_at", "outcome_batches", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_outcome_batches_received_at", table_name="outcome_batches")
    op.drop_table("outcome_batches")
    op.drop_index("ix_outcome_windows_flag_environment_slot", table_name="outcome_windows")
    op.drop_table("outcome_windows")
    op.drop_index("ix_incidents_flag", table_name="incidents")
    for name in ("incidents", "members", "rollout_checks", "rollout_approvals"):
        op.drop_table(name)
    op.drop_index("ix_rollout_history_rollout_id_id", table_name="rollout_history")
    op.drop_table("rollout_history")
    op.drop_index("ix_rollouts_phase", table_name="rollouts")
    op.drop_index("ix_rollouts_flag", table_name="rollouts")
    op.drop_table("rollouts")
