"""Remote twin of :mod:`phased.service.audit` (see the package docs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from phased.backend.http_areas import RemoteStore, entry_of
from phased.service.audit import write_jsonl
from phased.store.audit import AuditEntry, ChainReport


def recent(
    store: RemoteStore,
    *,
    limit: int | None = 50,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first; ``action`` ending in ``.`` is a prefix."""
    params = {
        "limit": limit,
        "actor": actor,
        "action": action,
        "entity": entity,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    return [entry_of(e) for e in store.request("GET", "/audit", params=params)]


def verify(store: RemoteStore) -> ChainReport:
    """Recompute the whole chain on the server."""
    data = store.request("GET", "/audit/verify")
    return ChainReport(
        ok=bool(data["ok"]),
        entries=int(data["entries"]),
        head=data["head"],
        first_bad=data["first_bad"],
        problem=data["problem"],
    )


def entries(store: RemoteStore) -> Iterator[AuditEntry]:
    """Every entry, oldest first."""
    text: str = store.request("GET", "/audit/export", raw=True)
    for line in text.splitlines():
        if line.strip():
            yield entry_of(json.loads(line))


def export(
    store: RemoteStore,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write entries as JSON lines, oldest first; returns how many."""
    return write_jsonl(entries(store), out, since=since, until=until)
