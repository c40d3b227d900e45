"""The Backend's protocols for the flag set:
flags, segments, overrides, the flags file and the audit trail.

See :mod:`phased.backend.areas`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from phased.core.flags import FlagSet, Segment, Value
    from phased.service.apply import ApplyOutcome
    from phased.service.base import Result
    from phased.service.flags import StoredFlag
    from phased.service.overrides import OverrideView
    from phased.store.archive import ArchivedFlag
    from phased.store.audit import AuditEntry, ChainReport


class Apply(Protocol):
    """The ``apply`` use cases (:mod:`phased.service.apply`)."""

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
        """Make the store match ``wanted`` in one transaction; nothing is written on any error."""
        ...


class Audit(Protocol):
    """The ``audit`` use cases (:mod:`phased.service.audit`)."""

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
        """Newest first; ``action`` ending in ``.`` is a prefix (``flag.``, ``rollout.``)."""
        ...

    def verify(self) -> ChainReport:
        """Recompute the whole chain (see :func:`phased.store.audit.verify`)."""
        ...

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first (streamed in batches)."""
        ...

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write entries as JSON lines, oldest first; returns how many."""
        ...


class Flags(Protocol):
    """The ``flags`` use cases (:mod:`phased.service.flags`)."""

    def load_flagset(self, environment: str | None = None) -> FlagSet:
        """The stored flag set (every environment's state, or only ``environment``'s)."""
        ...

    def get_flag(self, key: str) -> StoredFlag:
        """One flag with its versions."""
        ...

    def list_flags(self) -> list[StoredFlag]:
        """Every flag, by key."""
        ...

    def create_flag(
        self,
        *,
        actor: str | None,
        key: str,
        description: str = "",
        owner: str | None = None,
        tags: tuple[str, ...] = (),
        variants: dict[str, int] | None = None,
        env_var: str | None = None,
        stickiness: str = "user",
    ) -> Result:
        """Create a flag, off everywhere: its kill switch engaged in every environment."""
        ...

    def set_enabled(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        enabled: bool,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        """Release (``enabled=True``) or engage (``False``) the kill switch in one environment."""
        ...

    def set_default(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        value: str,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        """What contexts no override, rule or rollout reached get in one environment."""
        ...

    def delete_flag(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete a flag (every environment). Refused while another flag requires it."""
        ...

    def list_archived(self) -> list[ArchivedFlag]:
        """Deleted (archived) flags, by key."""
        ...

    def restore_flag(self, *, actor: str | None, key: str) -> Result:
        """Bring an archived flag back."""
        ...


class Overrides(Protocol):
    """The ``overrides`` use cases (:mod:`phased.service.overrides`)."""

    def list_overrides(
        self, *, key: str | None = None, environment: str | None = None
    ) -> list[OverrideView]:
        """Overrides by flag and environment; expired ones are listed and marked."""
        ...

    def set_override(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        serve: Value | str,
        user: str | None = None,
        session: str | None = None,
        attr: str | None = None,
        expires: str | datetime | None = None,
        note: str = "",
        expected_version: int | None = None,
        force: bool = False,
    ) -> Result:
        """Pin ``serve`` for one user, session or ``attr=value`` (replacing an existing pin)."""
        ...

    def clear_override(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        user: str | None = None,
        session: str | None = None,
        attr: str | None = None,
        force: bool = False,
    ) -> Result:
        """Remove the override for one user, session or ``attr=value``."""
        ...

    def clear_all_overrides(
        self,
        *,
        actor: str | None,
        environment: str,
        key: str | None = None,
        force: bool = False,
    ) -> Result:
        """Remove every override of ``key`` (or of every flag) in one environment."""
        ...


class Segments(Protocol):
    """The ``segments`` use cases (:mod:`phased.service.segments`)."""

    def list_segments(self) -> list[Segment]:
        """Every segment, by key."""
        ...

    def get_segment(self, key: str) -> tuple[Segment, list[str]]:
        """The segment and the places (``flag@env rules[i]``) that use it."""
        ...

    def create_segment(
        self,
        *,
        actor: str | None,
        key: str,
        where: list[str] | tuple[str, ...],
        description: str = "",
    ) -> Result:
        """Create a segment from one or more ``attr op value`` expressions (all must hold)."""
        ...

    def delete_segment(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete a segment no rule uses any more."""
        ...
