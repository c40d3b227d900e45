"""Reported golden runs: stored once, then only their stage is filled in.

A run is inserted before the use case knows which stage (if any) it is
evidence for, because the checklist tick names the run's id; the stage is
written afterwards in the same transaction. Written only through
:mod:`phased.service.golden_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from phased.store.tables_migrate import golden_runs


@dataclass(frozen=True, slots=True)
class GoldenRunRecord:
    """One reported golden run."""

    id: int
    suite: str
    flag: str | None
    build: str
    mode: str
    passed: bool
    counts: dict[str, int]
    failures: list[str]
    actor: str
    at: datetime
    ticked: str | None = None
    """The stage whose golden item this run ticked (passing) or withdrew (failing)."""

    @property
    def evidence(self) -> str:
        """How a checklist tick names this run."""
        return f"golden-run:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "suite": self.suite,
            "flag": self.flag,
            "build": self.build,
            "mode": self.mode,
            "passed": self.passed,
            "counts": self.counts,
            "failures": self.failures,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "evidence": self.evidence,
            "link": f"/api/v1/golden-runs/{self.id}",
            "stage": self.ticked,
        }


def _record(row: Any) -> GoldenRunRecord:
    return GoldenRunRecord(
        id=int(row.id),
        suite=row.suite,
        flag=row.flag,
        build=row.build,
        mode=row.mode,
        passed=bool(row.passed),
        counts=dict(row.counts),
        failures=list(row.failures),
        actor=row.actor,
        at=row.at,
        ticked=row.stage,
    )


def insert_run(
    conn: Connection,
    *,
    suite: str,
    flag: str | None,
    build: str,
    mode: str,
    passed: bool,
    counts: dict[str, int],
    failures: list[str],
    actor: str,
    at: datetime,
) -> int:
    """Store a run (no stage yet); returns its id."""
    new_id = conn.execute(
        insert(golden_runs)
        .values(
            suite=suite,
            flag=flag,
            build=build,
            mode=mode,
            passed=passed,
            counts=counts,
            failures=failures,
            actor=actor,
            at=at,
        )
        .returning(golden_runs.c.id)
    ).scalar_one()
    return int(new_id)


def set_stage(conn: Connection, run_id: int, stage: str) -> None:
    """Name the stage whose item the run ticked or withdrew."""
    conn.execute(update(golden_runs).where(golden_runs.c.id == run_id).values(stage=stage))


def get_run(conn: Connection, run_id: int) -> GoldenRunRecord | None:
    """One run by id."""
    row = conn.execute(select(golden_runs).where(golden_runs.c.id == run_id)).first()
    return None if row is None else _record(row)


def newest(conn: Connection, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
    """Runs newest first (of ``suite`` only, when given)."""
    query = select(golden_runs).order_by(golden_runs.c.id.desc()).limit(limit)
    if suite is not None:
        query = query.where(golden_runs.c.suite == suite)
    return [_record(r) for r in conn.execute(query)]


def latest_verdicts(conn: Connection, flag: str) -> dict[str, bool]:
    """suite → whether its latest run reported for ``flag`` passed."""
    t = golden_runs.c
    out: dict[str, bool] = {}
    for row in conn.execute(select(t.suite, t.passed).where(t.flag == flag).order_by(t.id)):
        out[row.suite] = bool(row.passed)  # the latest run per suite wins
    return out
