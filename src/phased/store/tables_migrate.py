"""Migration evidence: reported golden runs and kept old/new mismatch samples.

``golden_runs`` holds each ``phased golden ... --report`` result with the
build it ran against; a passing run is the evidence that ticks a stage's
golden requirement. ``compare_mismatches`` keeps a bounded number of
mismatch samples per flag (both outputs redacted, the context, a diff); a
person may resolve one as "new behaviour is correct" so it stops counting.
Migration ``0009`` creates both.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from phased.store.tables import UTCDateTime, metadata

golden_runs = Table(
    "golden_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suite", String(64), nullable=False, comment="The suite name plans refer to"),
    Column("flag", String(64), nullable=True, comment="The flag whose rollout it is evidence for"),
    Column("build", String(200), nullable=False, comment="Build or version it ran against"),
    Column("mode", String(16), nullable=False, comment="record / verify / test"),
    Column("passed", Boolean, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("failures", JSON, nullable=False, comment="The first failure lines (bounded)"),
    Column("stage", String(64), nullable=True, comment="The stage it ticked or blocked"),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_golden_runs_suite", "suite", "id"),
    comment="Golden runs reported to phased (evidence for stage requirements).",
)

compare_mismatches = Table(
    "compare_mismatches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flag", String(64), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("mode", String(16), nullable=False, comment="shadow / live: which path served"),
    Column("context", JSON, nullable=False, comment="The evaluation context, redacted"),
    Column("old", JSON, nullable=True, comment="The old path's result, redacted"),
    Column("new", JSON, nullable=True, comment="The new path's result, redacted"),
    Column("diff", JSON, nullable=False, comment="Difference lines"),
    Column("at", UTCDateTime, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("note", Text, nullable=True, comment="Why the new behaviour is correct"),
    Index("ix_compare_mismatches_flag", "flag", "id"),
    comment="Old/new mismatch samples, bounded per flag; resolved ones stop counting.",
)
