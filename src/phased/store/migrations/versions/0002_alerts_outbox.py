"""The alert outbox: alerts decided in a transaction, delivered by the alert worker.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phased.store.tables import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("flag", sa.String(64), nullable=True),
        sa.Column("rollout", sa.String(200), nullable=True),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("group_key", sa.Text, nullable=True),
        sa.Column("alert", sa.JSON, nullable=False, comment="The full Alert document"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("channels_done", sa.JSON, nullable=False, comment="Channels that accepted it"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'suppressed', 'skipped')",
            name="ck_alert_outbox_status",
        ),
        comment="Alerts decided in a transaction, delivered by the alert worker.",
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_table("alert_outbox")
