"""The local Backend's areas for the flag set:
flags, segments, overrides, the flags file and the audit trail.

Each binds its :mod:`phased.service` module to the store
(see :mod:`phased.backend.local`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from phased.service import apply as _apply
from phased.service import audit as _audit
from phased.service import flags as _flags
from phased.service import overrides as _overrides
from phased.service import segments as _segments

if TYPE_CHECKING:
    from phased.core.flags import FlagSet, Segment, Value
    from phased.service.apply import ApplyOutcome
    from phased.service.base import Result
    from phased.service.flags import StoredFlag
    from phased.service.overrides import OverrideView
    from phased.store.archive import ArchivedFlag
    from phased.store.audit import AuditEntry, ChainReport
    from phased.store.engine import Store


class LocalApply:
    """:mod:`phased.service.apply` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        return _apply.apply(
            self.store,
            actor=actor,
            wanted=wanted,
            environment=environment,
            source=source,
            dry_run=dry_run,
            force=force,
        )


class LocalAudit:
    """:mod:`phased.service.audit` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        return _audit.recent(
            self.store,
            limit=limit,
            actor=actor,
            action=action,
            entity=entity,
            since=since,
            until=until,
        )

    def verify(self) -> ChainReport:
        return _audit.verify(self.store)

    def entries(self) -> Iterator[AuditEntry]:
        return _audit.entries(self.store)

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        return _audit.export(self.store, out, since=since, until=until)


class LocalFlags:
    """:mod:`phased.service.flags` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load_flagset(self, environment: str | None = None) -> FlagSet:
        return _flags.load_flagset(self.store, environment)

    def get_flag(self, key: str) -> StoredFlag:
        return _flags.get_flag(self.store, key)

    def list_flags(self) -> list[StoredFlag]:
        return _flags.list_flags(self.store)

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
        return _flags.create_flag(
            self.store,
            actor=actor,
            key=key,
            description=description,
            owner=owner,
            tags=tags,
            variants=variants,
            env_var=env_var,
            stickiness=stickiness,
        )

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
        return _flags.set_enabled(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            enabled=enabled,
            expected_version=expected_version,
            force=force,
        )

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
        return _flags.set_default(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            value=value,
            expected_version=expected_version,
            force=force,
        )

    def delete_flag(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        return _flags.delete_flag(
            self.store, actor=actor, key=key, expected_version=expected_version
        )

    def list_archived(self) -> list[ArchivedFlag]:
        return _flags.list_archived(self.store)

    def restore_flag(self, *, actor: str | None, key: str) -> Result:
        return _flags.restore_flag(self.store, actor=actor, key=key)


class LocalOverrides:
    """:mod:`phased.service.overrides` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_overrides(
        self, *, key: str | None = None, environment: str | None = None
    ) -> list[OverrideView]:
        return _overrides.list_overrides(self.store, key=key, environment=environment)

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
        return _overrides.set_override(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            serve=serve,
            user=user,
            session=session,
            attr=attr,
            expires=expires,
            note=note,
            expected_version=expected_version,
            force=force,
        )

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
        return _overrides.clear_override(
            self.store,
            actor=actor,
            key=key,
            environment=environment,
            user=user,
            session=session,
            attr=attr,
            force=force,
        )

    def clear_all_overrides(
        self,
        *,
        actor: str | None,
        environment: str,
        key: str | None = None,
        force: bool = False,
    ) -> Result:
        return _overrides.clear_all_overrides(
            self.store,
            actor=actor,
            environment=environment,
            key=key,
            force=force,
        )


class LocalSegments:
    """:mod:`phased.service.segments` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_segments(self) -> list[Segment]:
        return _segments.list_segments(self.store)

    def get_segment(self, key: str) -> tuple[Segment, list[str]]:
        return _segments.get_segment(self.store, key)

    def create_segment(
        self,
        *,
        actor: str | None,
        key: str,
        where: list[str] | tuple[str, ...],
        description: str = "",
    ) -> Result:
        return _segments.create_segment(
            self.store, actor=actor, key=key, where=where, description=description
        )

    def delete_segment(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        return _segments.delete_segment(
            self.store, actor=actor, key=key, expected_version=expected_version
        )
