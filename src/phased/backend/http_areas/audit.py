"""The ``audit`` area over the HTTP API (:mod:`phased.service.audit`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from phased.backend.http_areas import RemoteStore, entry_of
from phased.service.audit import write_jsonl
from phased.store.audit import AuditEntry, ChainReport


class HttpAudit:
    """The ``audit`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def recent(
        self,
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
        return [entry_of(e) for e in self.http.request("GET", "/audit", params=params)]

    def verify(self) -> ChainReport:
        """Recompute the whole chain on the server."""
        data = self.http.request("GET", "/audit/verify")
        return ChainReport(
            ok=bool(data["ok"]),
            entries=int(data["entries"]),
            head=data["head"],
            first_bad=data["first_bad"],
            problem=data["problem"],
        )

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first."""
        text: str = self.http.request("GET", "/audit/export", raw=True)
        for line in text.splitlines():
            if line.strip():
                yield entry_of(json.loads(line))

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write entries as JSON lines, oldest first; returns how many."""
        return write_jsonl(self.entries(), out, since=since, until=until)
