"""The ``apply`` area over the HTTP API (:mod:`phased.service.apply`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.backend.http_areas import RemoteStore, change_of, entry_of
from phased.core.audience_change import AudienceChange
from phased.service.apply import ApplyOutcome

if TYPE_CHECKING:
    from phased.core.flags import FlagSet


class HttpApply:
    """The ``apply`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def apply(
        self,
        *,
        actor: str | None,
        wanted: FlagSet,
        environment: str | None = None,
        source: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> ApplyOutcome:
        """Make the server's flags match ``wanted`` (sent as a flags file) in one transaction."""
        from phased.core.flagfile import dump_flagset

        del actor
        body = {
            "text": dump_flagset(wanted),
            "environment": environment,
            "source": source,
            "dry_run": dry_run,
            "force": force,
        }
        data = self.http.request("POST", "/flags-file/apply", json=body)
        self.http.seen_revision = int(data["revision"])
        return ApplyOutcome(
            changes=tuple(change_of(c) for c in data["changes"]),
            applied=bool(data["applied"]),
            entries=tuple(entry_of(e) for e in data["audit"]),
            audience=tuple(AudienceChange.from_dict(a) for a in data.get("audience", ())),
        )
