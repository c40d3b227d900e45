"""The record of every metric source query: written by the engine, read by status and history.

Queries are observations, not changes: they are written in a plain write
transaction (no audit entry), like outcome windows. The count of inconclusive
answers in a row for a check in a stage run is read back from here, so it
survives an engine restart and is shared by every replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from phased.core.gates import Observations
from phased.core.measured import stage_checks
from phased.core.plans.check import Check
from phased.service.rollout_records import Rollout, require
from phased.store.engine import Store
from phased.store.source_queries import (
    QueryRecord,
    history,
    inconclusive_streak,
    insert_queries,
    latest,
)

# The engine, `sources log` and the tests reach the records through this use-case module.
__all__ = [
    "QueryLog",
    "QueryRecord",
    "history",
    "list_queries",
    "save",
    "stage_checks_of",
    "with_latest_measurements",
]


@dataclass(frozen=True, slots=True)
class QueryLog:
    """A rollout's source queries: the rollout is named even when none was made yet."""

    rollout_id: int
    queries: tuple[QueryRecord, ...]
    """Newest first."""


def list_queries(store: Store, flag: str, *, limit: int = 50) -> QueryLog:
    """The most recent source queries of the flag's latest rollout (``phased sources log``)."""
    with store.read() as conn:
        rollout = require(conn, flag, going=False)
        return QueryLog(rollout.id, tuple(history(conn, rollout.id, limit=limit)))


def save(store: Store, rows: Sequence[QueryRecord], streak_since: datetime) -> dict[str, int]:
    """Record ``rows`` and return each check's inconclusive streak after them."""
    with store.write() as conn:
        insert_queries(conn, rows)
        out: dict[str, int] = {}
        for r in rows:
            if r.check_key not in out:
                out[r.check_key] = inconclusive_streak(
                    conn, r.rollout_id, r.check_key, r.stage, streak_since
                )
        return out


def with_latest_measurements(
    conn: Connection, rollout: Rollout, metrics: Observations
) -> Observations:
    """``metrics`` with the rollout's last recorded source answers (a preview, a manual step).

    The engine queries the sources itself; a person's ``rollout status`` or
    ``advance`` judges what the engine last saw instead of querying again.
    """
    started = rollout.state.stage_started_at
    if started is None or not any(c.external for c, _ in stage_checks_of(rollout)):
        return metrics
    found = latest(conn, rollout.id, rollout.stage.name, started)
    return replace(metrics, measurements=found) if found else metrics


def stage_checks_of(rollout: Rollout) -> list[tuple[Check, str]]:
    """The current stage's checks that a metric source answers."""
    plan = rollout.plan
    index = min(rollout.state.stage, len(plan.stages) - 1)
    return [(c, str(k)) for c, k in stage_checks(plan, index)]
