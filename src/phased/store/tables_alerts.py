"""The alert tables: the outbox (alerts decided in a transaction) and the stored config.

Their queries: :mod:`phased.store.outbox` (the
:class:`~phased.store.alert_queue.AlertQueue` over ``alert_outbox``) and
:mod:`phased.store.alerts_config` (the configuration set through the API).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from phased.store.tables import UTCDateTime, metadata

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("flag", String(64), nullable=True),
    Column("rollout", String(200), nullable=True),
    Column("dedup_key", String(64), nullable=False),
    Column("group_key", Text, nullable=True),
    Column("alert", JSON, nullable=False, comment="The full Alert document"),
    Column("attempts", Integer, nullable=False),
    Column("channels_done", JSON, nullable=False, comment="Channels that accepted it"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "status IN ('pending', 'delivered', 'failed', 'suppressed', 'skipped')", name="status"
    ),
    Index("ix_alert_outbox_due", "status", "next_attempt_at"),
    comment="Alerts decided in a transaction, delivered by the alert worker.",
)


alerts_config = Table(
    "alerts_config",
    metadata,
    Column("id", Integer, primary_key=True, comment="Always 1: there is one document"),
    Column("version", Integer, nullable=False, comment="1 for the first stored document"),
    Column("document", JSON, nullable=False, comment="As given: ${VAR} references unexpanded"),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
    comment="The alerts config set through the API; wins over the alerts file.",
)
