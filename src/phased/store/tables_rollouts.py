"""Tables of running rollouts: plans and their state, history, people, incidents, outcomes.

A rollout row holds the validated plan and the :class:`~phased.core.rollout_state.RolloutState`
as JSON; ``decide`` reads exactly that state. Approvals, checklist ticks and
incidents are also kept in their own tables, written in the same transaction
as the state, so "who approved what, when" is one indexed query rather than a
scan of JSON. Outcome windows are merged per (flag, environment, arm, stage,
10-second slot); each ingested batch leaves its id behind so a retried post is
never counted twice. Migration ``0003`` creates all of them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
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

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flag", String(64), nullable=False),
    Column("environment", String(64), nullable=False, comment="The first stage's environment"),
    Column("phase", String(16), nullable=False, comment="RolloutPhase, copied for queries"),
    Column("plan", JSON, nullable=False, comment="The validated Plan document"),
    Column("plan_source", Text, nullable=False, comment="The plan file as applied"),
    Column("plan_path", String(500), nullable=False),
    Column("state", JSON, nullable=False, comment="RolloutState: what decide reads"),
    Column("alerted", JSON, nullable=False, comment="Alert keys already sent in this stage run"),
    Column("version", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_rollouts_flag", "flag"),
    Index("ix_rollouts_phase", "phase"),
    comment="One row per applied plan; at most one non-terminal rollout per flag.",
)

rollout_history = Table(
    "rollout_history",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "rollout_id",
        Integer,
        ForeignKey("rollouts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(16), nullable=False, comment="hold/advance/complete/pause/rollback/..."),
    Column("source", String(16), nullable=False, comment="engine, manual or forced"),
    Column("stage", String(64), nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("phase", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("evaluations", JSON, nullable=False, comment="Every GateResult: value, threshold..."),
    Column("alerts", JSON, nullable=False, comment="Alerts decided (sent or, in dry run, not)"),
    Column("waiting", JSON, nullable=False, comment="Approvals and checklist items missing"),
    Index("ix_rollout_history_rollout_id_id", "rollout_id", "id"),
    comment="Every decision about a rollout with every gate evaluation behind it.",
)

rollout_approvals = Table(
    "rollout_approvals",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "rollout_id",
        Integer,
        ForeignKey("rollouts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("stage", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("roles", JSON, nullable=False, comment="Roles the approver held when approving"),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("rollout_id", "stage", "actor"),
)

rollout_checks = Table(
    "rollout_checks",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "rollout_id",
        Integer,
        ForeignKey("rollouts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("stage", String(64), nullable=False),
    Column("item", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("rollout_id", "stage", "item"),
)

members = Table(
    "members",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("roles", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    comment="People and their roles: approvals and role-gated commands check against them.",
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flag", String(64), nullable=False),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="SET NULL"), nullable=True),
    Column("severity", String(2), nullable=False),
    Column("title", Text, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("action", String(16), nullable=True, comment="What opening it did to the rollout"),
    Index("ix_incidents_flag", "flag"),
)

outcome_windows = Table(
    "outcome_windows",
    metadata,
    Column("flag", String(64), primary_key=True),
    Column("environment", String(64), primary_key=True),
    Column("arm", String(16), primary_key=True),
    Column("stage", String(64), primary_key=True),
    Column("slot", BigInteger, primary_key=True, comment="Unix time // 10"),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("data", JSON, nullable=False, comment="Aggregate.to_dict(): counts, sketch, users"),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_outcome_windows_flag_environment_slot", "flag", "environment", "slot"),
    comment="Outcome aggregates per window, merged when several processes report one window.",
)

outcome_batches = Table(
    "outcome_batches",
    metadata,
    Column("id", String(64), primary_key=True, comment="The sender's batch id"),
    Column("windows", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_outcome_batches_received_at", "received_at"),
    comment="Batches already counted: a retried post with a known id is ignored.",
)
