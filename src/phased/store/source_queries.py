"""The ``source_queries`` table: every metric source query the engine made, and its answer.

The inconclusive streak of a check is counted from these rows rather than
kept in memory, so it survives an engine restart and every replica sees the
same count. Written through :mod:`phased.service.source_queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from phased.core.measured import Measurement
from phased.store.tables_external import source_queries

MAX_QUERY_CHARS = 4000
MAX_MESSAGE_CHARS = 1000
MAX_KEY_CHARS = 500
"""The width of ``check_key``: longer keys are cut the same way on write and on read."""
STREAK_LOOKBACK = 500
"""Rows read back to count a streak (a streak longer than this has long paused the rollout)."""


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One query as recorded."""

    rollout_id: int
    at: datetime
    stage: str
    check_key: str
    source: str
    arm: str
    query: str
    ok: bool
    value: float | None
    latency_ms: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (`phased sources log --json`, the API)."""
        return {
            "at": self.at.isoformat(),
            "stage": self.stage,
            "check": self.check_key,
            "source": self.source,
            "arm": self.arm,
            "query": self.query,
            "ok": self.ok,
            "value": self.value,
            "latency_ms": round(self.latency_ms, 1),
            "message": self.message,
        }


def _record(row: Any) -> QueryRecord:
    return QueryRecord(
        rollout_id=row.rollout_id,
        at=row.at,
        stage=row.stage,
        check_key=row.check_key,
        source=row.source,
        arm=row.arm,
        query=row.query,
        ok=row.ok,
        value=row.value,
        latency_ms=row.latency_ms,
        message=row.message,
    )


def insert_queries(conn: Connection, rows: Sequence[QueryRecord]) -> None:
    """Insert query records (inside the caller's transaction); long texts are cut to fit."""
    if not rows:
        return
    conn.execute(
        source_queries.insert(),
        [
            {
                "rollout_id": r.rollout_id,
                "at": r.at,
                "stage": r.stage,
                "check_key": r.check_key[:MAX_KEY_CHARS],
                "source": r.source,
                "arm": r.arm,
                "query": r.query[:MAX_QUERY_CHARS],
                "ok": r.ok,
                "value": r.value,
                "latency_ms": r.latency_ms,
                "message": r.message[:MAX_MESSAGE_CHARS],
            }
            for r in rows
        ],
    )


def inconclusive_streak(
    conn: Connection, rollout_id: int, check_key: str, stage: str, since: datetime
) -> int:
    """Inconclusive checks in a row since ``since`` (a check fails if any arm's query did)."""
    t = source_queries.c
    stmt = (
        select(t.at, t.ok)
        .where(
            t.rollout_id == rollout_id,
            t.check_key == check_key[:MAX_KEY_CHARS],
            t.stage == stage,
            t.at >= since,
        )
        .order_by(t.id.desc())
        .limit(STREAK_LOOKBACK)
    )
    moments: dict[datetime, bool] = {}
    for row in conn.execute(stmt):
        moments[row.at] = moments.get(row.at, True) and bool(row.ok)
    streak = 0
    for ok in moments.values():  # newest first (dicts keep insertion order)
        if ok:
            break
        streak += 1
    return streak


def history(conn: Connection, rollout_id: int, *, limit: int = 200) -> list[QueryRecord]:
    """The rollout's most recent queries, newest first."""
    t = source_queries.c
    stmt = (
        select(source_queries).where(t.rollout_id == rollout_id).order_by(t.id.desc()).limit(limit)
    )
    return [_record(row) for row in conn.execute(stmt)]


def latest(
    conn: Connection, rollout_id: int, stage: str, since: datetime
) -> dict[str, Measurement]:
    """The last measurement of each check in this stage run (what `rollout status` shows)."""
    t = source_queries.c
    stmt = (
        select(source_queries)
        .where(t.rollout_id == rollout_id, t.stage == stage, t.at >= since)
        .order_by(t.id.desc())
        .limit(STREAK_LOOKBACK)
    )
    newest: dict[str, datetime] = {}
    arms: dict[str, dict[str, QueryRecord]] = {}
    for row in conn.execute(stmt):
        at = newest.setdefault(row.check_key, row.at)
        if row.at != at:
            continue
        arms.setdefault(row.check_key, {})[row.arm] = _record(row)
    out: dict[str, Measurement] = {}
    for key, by_arm in arms.items():
        cand = by_arm.get("candidate")
        control = by_arm.get("control")
        first = cand or control
        assert first is not None
        failed = [r for r in by_arm.values() if not r.ok]
        out[key] = Measurement(
            source=first.source,
            query=first.query,
            ok=not failed,
            value=cand.value if cand is not None else None,
            control_value=control.value if control is not None else None,
            latency_ms=sum(r.latency_ms for r in by_arm.values()),
            message="; ".join(f"{r.arm}: {r.message}" for r in failed),
            streak=inconclusive_streak(conn, rollout_id, key, stage, since) if failed else 0,
        )
    return out
