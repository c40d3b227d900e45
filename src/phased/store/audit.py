"""The audit chain: append-only, hash-chained, verified end to end.

Each entry's hash is SHA-256 over the previous entry's hash and a canonical
JSON serialisation of the entry (id, ts, actor, action, entity, details) with
sorted keys and no spaces. Entries are appended inside the mutation's own
transaction while the store's write lock is held (see
:meth:`phased.store.engine.Store.write`), so the chain never forks. The store
head keeps the last id and hash, which also exposes a removed tail.

Nothing in phased updates or deletes an entry; the database refuses it too
(triggers created by migration 0001).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update

from phased.errors import ValidationError
from phased.store.tables import audit_log, store_head

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change."""

    id: int
    ts: datetime
    actor: str
    action: str
    entity: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (one line of ``phased audit export``)."""
        return {
            "id": self.id,
            "ts": format_ts(self.ts),
            "actor": self.actor,
            "action": self.action,
            "entity": self.entity,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify` found."""

    ok: bool
    entries: int
    head: str
    first_bad: int | None = None
    problem: str = ""

    def summary(self) -> str:
        """One line for people."""
        if self.ok:
            return f"audit chain ok: {self.entries} entries, head {self.head[:16]}"
        return f"audit chain broken at entry {self.first_bad}: {self.problem}"


def format_ts(ts: datetime) -> str:
    """UTC, microseconds, ``Z``: the one spelling of a timestamp in hashes and exports."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the same bytes for the same value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str,
    *,
    id: int,
    ts: datetime,
    actor: str,
    action: str,
    entity: str,
    details: str,
) -> str:
    """SHA-256 of the previous hash and the canonical entry (``details`` already canonical)."""
    body = canonical_json(
        {
            "id": id,
            "ts": format_ts(ts),
            "actor": actor,
            "action": action,
            "entity": entity,
            "details": json.loads(details),
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(
    conn: Connection,
    *,
    ts: datetime,
    actor: str,
    action: str,
    entity: str,
    details: dict[str, Any],
) -> AuditEntry:
    """Append one entry. Call only inside :meth:`Store.write` (the write lock is held)."""
    if not actor.strip():
        raise ValidationError("every change needs an actor; pass --actor NAME", field="actor")
    head = conn.execute(
        select(store_head.c.audit_seq, store_head.c.audit_hash).where(store_head.c.id == 1)
    ).one()
    entry_id = int(head.audit_seq) + 1
    prev = str(head.audit_hash)
    # Round-trip through the database's precision (microseconds) before hashing.
    ts = ts.astimezone(UTC)
    text = canonical_json(details)
    digest = entry_hash(
        prev, id=entry_id, ts=ts, actor=actor, action=action, entity=entity, details=text
    )
    conn.execute(
        insert(audit_log).values(
            id=entry_id,
            ts=ts,
            actor=actor,
            action=action,
            entity=entity,
            details=text,
            prev_hash=prev,
            hash=digest,
        )
    )
    conn.execute(
        update(store_head).where(store_head.c.id == 1).values(audit_seq=entry_id, audit_hash=digest)
    )
    return AuditEntry(entry_id, ts, actor, action, entity, details, prev, digest)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=int(row.id),
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def entity_filter(entity: str) -> Any:
    """``flag:awf_bundle`` matches exactly; a bare ``awf_bundle`` matches any kind."""
    if ":" in entity:
        return audit_log.c.entity == entity
    return audit_log.c.entity.like(f"%:{_escape_like(entity)}", escape="\\")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query(
    conn: Connection,
    *,
    limit: int | None = 50,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = True,
) -> list[AuditEntry]:
    """Entries matching every given filter.

    Args:
        action: a prefix when it ends with ``.`` (``flag.``, ``override.``), else exact.
        entity: see :func:`entity_filter`.
        since: inclusive lower bound on ``ts``.
        until: exclusive upper bound on ``ts``.
    """
    stmt: Select[Any] = select(audit_log)
    if actor is not None:
        stmt = stmt.where(audit_log.c.actor == actor)
    if action is not None:
        if action.endswith("."):
            stmt = stmt.where(audit_log.c.action.like(f"{_escape_like(action)}%", escape="\\"))
        else:
            stmt = stmt.where(audit_log.c.action == action)
    if entity is not None:
        stmt = stmt.where(entity_filter(entity))
    if since is not None:
        stmt = stmt.where(audit_log.c.ts >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.ts < until)
    stmt = stmt.order_by(audit_log.c.id.desc() if newest_first else audit_log.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_entry(row) for row in conn.execute(stmt)]


def iter_entries(conn: Connection) -> Iterator[AuditEntry]:
    """Every entry, oldest first, fetched in batches (for export)."""
    for row in _raw_rows(conn):
        yield _entry(row)


def count(conn: Connection) -> int:
    """How many entries the log holds."""
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def verify(conn: Connection) -> ChainReport:
    """Recompute the chain; name the first entry whose stored hash or link is wrong."""
    prev = GENESIS
    expected_id = 1
    seen = 0
    for row in _raw_rows(conn):
        if int(row.id) != expected_id:
            return ChainReport(
                False,
                seen,
                prev,
                expected_id,
                f"entry {expected_id} is missing (next stored entry is {row.id})",
            )
        if row.prev_hash != prev:
            return ChainReport(
                False,
                seen,
                prev,
                int(row.id),
                f"prev_hash {row.prev_hash[:16]}… does not match the previous entry's hash "
                f"{prev[:16]}…",
            )
        try:
            digest = entry_hash(
                row.prev_hash,
                id=int(row.id),
                ts=row.ts,
                actor=row.actor,
                action=row.action,
                entity=row.entity,
                details=row.details,
            )
        except ValueError:
            return ChainReport(False, seen, prev, int(row.id), "details are not valid JSON")
        if digest != row.hash:
            return ChainReport(
                False,
                seen,
                prev,
                int(row.id),
                f"stored hash {row.hash[:16]}… but the content hashes to {digest[:16]}… "
                "(the entry was edited after it was written)",
            )
        prev = row.hash
        seen += 1
        expected_id += 1
    head = conn.execute(
        select(store_head.c.audit_seq, store_head.c.audit_hash).where(store_head.c.id == 1)
    ).one()
    if int(head.audit_seq) != seen or head.audit_hash != prev:
        return ChainReport(
            False,
            seen,
            prev,
            seen + 1,
            f"the store head records {head.audit_seq} entries ending in "
            f"{str(head.audit_hash)[:16]}…, the log has {seen} (entries after {seen} were removed)",
        )
    return ChainReport(True, seen, prev)


def _raw_rows(conn: Connection, batch: int = 1000) -> Iterator[Any]:
    after = 0
    while True:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = int(rows[-1].id)
