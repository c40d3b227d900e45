"""Kept old/new mismatch samples, bounded per flag.

Samples arrive redacted and size-bounded from :mod:`phased.service.compare`;
this module only stores, trims, lists and marks them. Trimming drops the
oldest unresolved samples first: a resolved one is a person's decision and
stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from phased.store.tables_migrate import compare_mismatches


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One kept mismatch sample."""

    id: int
    flag: str
    environment: str
    stage: str
    mode: str
    context: dict[str, Any]
    old: Any
    new: Any
    diff: list[str]
    at: datetime
    resolved: bool = False
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "flag": self.flag,
            "environment": self.environment,
            "stage": self.stage,
            "mode": self.mode,
            "context": self.context,
            "old": self.old,
            "new": self.new,
            "diff": self.diff,
            "at": self.at.isoformat(),
            "resolved": self.resolved,
            "resolved_by": self.resolved_by,
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "note": self.note,
        }


def _mismatch(row: Any) -> Mismatch:
    return Mismatch(
        id=int(row.id),
        flag=row.flag,
        environment=row.environment,
        stage=row.stage,
        mode=row.mode,
        context=dict(row.context),
        old=row.old,
        new=row.new,
        diff=list(row.diff),
        at=row.at,
        resolved=bool(row.resolved),
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        note=row.note,
    )


def insert_sample(
    conn: Connection,
    *,
    flag: str,
    environment: str,
    stage: str,
    mode: str,
    context: Any,
    old: Any,
    new: Any,
    diff: list[str],
    at: datetime,
) -> int:
    """Store an unresolved sample; returns its id."""
    new_id = conn.execute(
        insert(compare_mismatches)
        .values(
            flag=flag,
            environment=environment,
            stage=stage,
            mode=mode,
            context=context,
            old=old,
            new=new,
            diff=diff,
            at=at,
            resolved=False,
        )
        .returning(compare_mismatches.c.id)
    ).scalar_one()
    return int(new_id)


def trim(conn: Connection, flag: str, keep: int) -> None:
    """Drop the flag's oldest unresolved samples beyond ``keep`` in all."""
    t = compare_mismatches.c
    count = conn.execute(select(func.count()).where(t.flag == flag)).scalar_one()
    if count > keep:
        oldest = select(t.id).where(t.flag == flag, t.resolved.is_(False)).order_by(t.id)
        drop = [r.id for r in conn.execute(oldest.limit(count - keep))]
        conn.execute(delete(compare_mismatches).where(t.id.in_(drop)))


def newest(
    conn: Connection, flag: str, *, include_resolved: bool = False, limit: int = 50
) -> list[Mismatch]:
    """The flag's samples, newest first (unresolved only unless ``include_resolved``)."""
    t = compare_mismatches.c
    query = select(compare_mismatches).where(t.flag == flag).order_by(t.id.desc()).limit(limit)
    if not include_resolved:
        query = query.where(t.resolved.is_(False))
    return [_mismatch(r) for r in conn.execute(query)]


def get_sample(conn: Connection, mismatch_id: int) -> Mismatch | None:
    """One sample by id."""
    t = compare_mismatches.c
    row = conn.execute(select(compare_mismatches).where(t.id == mismatch_id)).first()
    return None if row is None else _mismatch(row)


def mark_resolved(
    conn: Connection, mismatch_id: int, *, actor: str, at: datetime, note: str
) -> None:
    """Record who decided the new behaviour is correct, when and why."""
    t = compare_mismatches.c
    conn.execute(
        update(compare_mismatches)
        .where(t.id == mismatch_id)
        .values(resolved=True, resolved_by=actor, resolved_at=at, note=note)
    )
