"""Reading the audit trail: queries, verification, export. Nothing here writes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO

from phased.errors import ValidationError
from phased.store import audit
from phased.store.audit import AuditEntry, ChainReport
from phased.store.engine import Store


def recent(
    store: Store,
    *,
    limit: int | None = 50,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first; ``action`` ending in ``.`` is a prefix (``flag.``, ``rollout.``)."""
    if limit is not None and limit < 1:
        raise ValidationError(f"must be at least 1 (got {limit})", field="limit")
    with store.read() as conn:
        return audit.query(
            conn, limit=limit, actor=actor, action=action, entity=entity, since=since, until=until
        )


def verify(store: Store) -> ChainReport:
    """Recompute the whole chain (see :func:`phased.store.audit.verify`)."""
    with store.read() as conn:
        return audit.verify(conn)


def entries(store: Store) -> Iterator[AuditEntry]:
    """Every entry, oldest first (streamed in batches)."""
    with store.read() as conn:
        yield from audit.iter_entries(conn)


def export(
    store: Store,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write entries as JSON lines, oldest first; returns how many."""
    return write_jsonl(entries(store), out, since=since, until=until)


def write_jsonl(
    found: Iterable[AuditEntry],
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the entries in ``[since, until)`` as JSON lines; returns how many."""
    written = 0
    for entry in found:
        if since is not None and entry.ts < since:
            continue
        if until is not None and entry.ts >= until:
            continue
        out.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        written += 1
    return written
