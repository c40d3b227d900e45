"""Tables of what phased does with systems outside it: source queries, hook runs, alert triggers.

* ``source_queries``: every query the engine sent to a metric source, its
  answer (or why there was none) and its latency: the rollout's record of
  where a gate's number came from.
* ``hook_runs``: one row per hook per transition, claimed (inserted) before
  the hook runs, so a restarted or second engine never runs it again.
* ``alert_triggers``: inbound endpoints an alerting system calls to pause,
  roll back or disable a flag's rollout; only the token's hash is kept.

Migration ``0008`` creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from phased.store.tables import UTCDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

source_queries = Table(
    "source_queries",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("stage", String(64), nullable=False),
    Column("check_key", String(500), nullable=False),  # core.measured.measurement_key
    Column("source", String(64), nullable=False),
    Column("arm", String(16), nullable=False),
    Column("query", Text, nullable=False),  # As sent, template variables filled in
    Column("ok", Boolean, nullable=False),
    Column("value", Float, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("message", Text, nullable=False),  # Why inconclusive (redacted), or ''
    Index("ix_source_queries_rollout_key", "rollout_id", "check_key", "id"),
)  # Every metric source query the engine made, with its answer and latency.

hook_runs = Table(
    "hook_runs",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
    Column("transition", String(300), nullable=False),  # phase:stage:run[:attempt]
    Column("hook", String(200), nullable=False),
    Column("phase", String(32), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running, passed, failed, interrupted
    Column("attempts", Integer, nullable=False),
    Column("detail", Text, nullable=False),  # Status code or exit code and output
    Column("claimed_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    UniqueConstraint("rollout_id", "transition", "hook", name="uq_hook_runs_transition"),
)  # One row per hook per transition, claimed before the hook runs.

alert_triggers = Table(
    "alert_triggers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flag", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("action", String(16), nullable=True),  # None: the plan's on_alert.action
    Column("match", JSON, nullable=False),  # Labels an alert must carry to count
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("flag", "name", name="uq_alert_triggers_flag_name"),
)  # Inbound alert endpoints; the URL carries a token whose hash is kept here.
