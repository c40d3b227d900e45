"""The engine's outcome rollups: each stage run's windows, merged up to a sealed slot.

A rollup row holds, for one run of one rollout's stage and one arm, the
merged :class:`~phased.core.outcomes.Aggregate` of every outcome window the
run counts (its stage's label or none, slots from the run's start) up to and
including ``sealed_slot``. The engine reads the rollup plus the few windows
after it instead of every window of a week-long stage. Rows are a cache:
deleting them only makes the next pass read the windows again. Migration
``0005`` creates the table.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table

from phased.store.tables import UTCDateTime, metadata

outcome_rollups = Table(
    "outcome_rollups",
    metadata,
    Column(
        "rollout_id",
        Integer,
        ForeignKey("rollouts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("run", Integer, primary_key=True, comment="Index of the stage run in state.runs"),
    Column("arm", String(16), primary_key=True),
    Column("flag", String(64), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("stage", String(64), nullable=False, comment="The run's stage ('' windows count too)"),
    Column("first_slot", BigInteger, nullable=False, comment="slot_of(run.started_at)"),
    Column("sealed_slot", BigInteger, nullable=False, comment="Last slot merged in"),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("data", JSON, nullable=False, comment="Aggregate.to_dict() of the merged windows"),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_outcome_rollups_flag_environment", "flag", "environment"),
    comment="Per stage run and arm: outcome windows merged up to sealed_slot (a cache).",
)
