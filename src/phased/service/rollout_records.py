"""Rollouts as the use cases see them: found or refused, saved or in conflict.

Used by the rollout service modules inside their transaction; nothing here
opens one. Every save names the version it read and is refused with a
:class:`~phased.errors.ConflictError` when the row moved on (a person approved
while the engine was deciding): the engine then simply decides again. The
rows themselves are read and written by :mod:`phased.store.rollouts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from phased.core.decide import AlertNote
from phased.core.rollout_state import RolloutState
from phased.errors import ConflictError, NotFoundError
from phased.store import rollouts as repo
from phased.store.rollouts import (
    HistoryEntry,
    Rollout,
    active,
    add_history,
    all_rollouts,
    history,
    insert_rollout,
    known_flags,
    latest,
    signature,
)

__all__ = [
    "HistoryEntry",
    "Rollout",
    "active",
    "add_history",
    "alert_document",
    "all_rollouts",
    "history",
    "insert_rollout",
    "known_flags",
    "last_history",
    "latest",
    "load",
    "pick",
    "require",
    "save",
    "signature",
]


def load(conn: Connection, rollout_id: int) -> Rollout:
    """The rollout with this id."""
    found = repo.get(conn, rollout_id)
    if found is None:
        raise NotFoundError(f"no rollout with id {rollout_id}", field="rollout")
    return found


def require(conn: Connection, flag: str, *, going: bool = True) -> Rollout:
    """The flag's going rollout (or, with ``going=False``, its latest one)."""
    found = active(conn, flag) if going else latest(conn, flag)
    if found is not None:
        return found
    last = latest(conn, flag) if going else None
    if last is not None:
        raise NotFoundError(
            f"the rollout of {flag!r} is over ({last.phase}); apply a plan to start another "
            "with `phased plan apply PLAN --actor NAME`",
            field="flag",
        )
    known = ", ".join(known_flags(conn)[:10]) or "none yet"
    raise NotFoundError(
        f"no rollout of {flag!r}; start one with `phased plan apply PLAN --actor NAME` "
        f"(flags with rollouts: {known})",
        field="flag",
    )


def pick(conn: Connection, flag: str, rollout_id: int | None) -> Rollout:
    """Rollout ``rollout_id`` of ``flag`` (an older one), or the flag's latest when None."""
    if rollout_id is None:
        return require(conn, flag, going=False)
    found = repo.get(conn, rollout_id, flag=flag)
    if found is None:
        known = ", ".join(f"#{i}" for i in repo.ids_of(conn, flag)) or "none"
        raise NotFoundError(
            f"rollout: {flag!r} has no rollout #{rollout_id}; its rollouts: {known}",
            field="rollout",
        )
    return found


def save(
    conn: Connection,
    rollout: Rollout,
    state: RolloutState,
    now: datetime,
    *,
    alerted: dict[str, str] | None = None,
) -> Rollout:
    """Write the new state, refusing if the row changed since ``rollout`` was read."""
    kept = rollout.alerted if alerted is None else alerted
    if not repo.update_state(conn, rollout, state, now, alerted=kept):
        current = load(conn, rollout.id)
        raise ConflictError(
            f"the rollout of {rollout.flag!r} changed since version {rollout.version} "
            f"(now {current.version}); read it again and retry",
            field="version",
        )
    return load(conn, rollout.id)


def last_history(conn: Connection, rollout_id: int) -> HistoryEntry | None:
    """The most recent recorded decision."""
    found = history(conn, rollout_id, limit=1, newest_first=True)
    return found[0] if found else None


def alert_document(note: AlertNote, *, sent: bool) -> dict[str, Any]:
    """How an alert appears in the history (``sent`` False: deduplicated or dry run)."""
    return {"severity": note.severity, "key": note.key, "message": note.message, "sent": sent}
