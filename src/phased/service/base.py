"""The unit of work every mutation runs in.

``with mutation(store, actor) as m``: the store's write lock is taken, ``m``
loads the current flag set with row versions, the caller derives the new
flag set with pure functions, and :meth:`Mutation.commit` writes only what
changed (each row version-checked) and appends one audit entry per changed
flag or segment. Leaving the block commits; any exception rolls everything
back, so a refused change leaves the store exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Connection

from phased.core.flags import Flag, FlagSet, Segment
from phased.core.source import format_loc, parse_loc
from phased.errors import ConflictError, NotFoundError, PhasedError, ValidationError
from phased.obs.redact import EXEMPT_KEYS, redact_secrets
from phased.service import events
from phased.service.diff import EntityChange, diff_flagsets
from phased.store import archive, audit, repository
from phased.store.audit import AuditEntry
from phased.store.engine import Store
from phased.store.repository import Snapshot

T = TypeVar("T")

AUDIT_IDENTIFIERS = EXEMPT_KEYS | {"key"}
"""Detail keys that name phased's own things, kept readable (their values are still scanned)."""


@dataclass(frozen=True, slots=True)
class Result:
    """What one mutation did: the entities it changed and their audit entries."""

    changes: tuple[EntityChange, ...]
    entries: tuple[AuditEntry, ...]
    revision: int

    @property
    def changed(self) -> bool:
        """False when the request matched the store already (nothing written)."""
        return bool(self.changes)


@dataclass(slots=True)
class Mutation:
    """One transaction: load, transform, commit. Built by :func:`mutation`."""

    store: Store
    conn: Connection
    actor: str
    now: datetime
    force: bool = False
    """Change a flag a running plan controls anyway (audited as forced drift)."""
    entries: list[AuditEntry] = field(default_factory=list)
    changes: list[EntityChange] = field(default_factory=list)
    _snapshot: Snapshot | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The flag set as it is now (loaded once, under the write lock)."""
        if self._snapshot is None:
            self._snapshot = repository.load(self.conn, self.store.environments)
        return self._snapshot

    def record(self, action: str, entity: str, details: dict[str, Any]) -> AuditEntry:
        """Append an audit entry (and tell listeners) in this transaction.

        The details are redacted first: the chain is append-only, so a secret
        written into it (a token pasted into a description, a password in an
        override's note) could never be taken out again. ``key`` is phased's
        own identifier here (a flag or an alert's key), not a credential.
        """
        safe: dict[str, Any] = redact_secrets(details, keep=AUDIT_IDENTIFIERS)
        entry = audit.append(
            self.conn, ts=self.now, actor=self.actor, action=action, entity=entity, details=safe
        )
        self.entries.append(entry)
        events.emit(self.conn, entry)
        return entry

    def commit(
        self,
        after: FlagSet,
        action: str | Callable[[EntityChange], str],
        extra: dict[str, Any] | None = None,
        *,
        by_plan: bool = False,
    ) -> list[EntityChange]:
        """Write the difference between the snapshot and ``after``; audit each entity.

        A flag a running rollout controls is guarded (:mod:`phased.service.guard`):
        deleting it is refused, and moving its audience needs ``force``.

        Args:
            action: the audit action, or a function choosing it per change.
            extra: merged into every entry's details (e.g. the source file).
            by_plan: the rollout's own write (a stage or a rollback): not drift.
        """
        from phased.service import guard

        before = self.snapshot
        changes = diff_flagsets(before.flagset, after)
        drift = guard.check(self, before.flagset, after, changes, by_plan=by_plan)
        forced = {d.rollout.flag for d in drift}
        for change in changes:
            self._write(before, after, change)
            name = action(change) if callable(action) else action
            details = {**change.details(), **(extra or {})}
            if change.key in forced and change.kind == "flag":
                details["forced_drift"] = True
            self.record(name, change.entity, details)
        self.changes.extend(changes)
        if drift:
            label = action if isinstance(action, str) else "flags.apply"
            guard.hold(self, drift, label)
        return changes

    def _write(self, before: Snapshot, after: FlagSet, change: EntityChange) -> None:
        conn, now, key = self.conn, self.now, change.key
        if change.kind == "segment":
            if change.op == "create":
                repository.insert_segment(conn, after.segments[key], now)
            elif change.op == "update":
                expected = before.segment_versions[key]
                repository.update_segment(conn, after.segments[key], expected, now)
            else:
                repository.delete_segment(conn, key, before.segment_versions[key])
            return
        if change.op == "delete":
            # A deleted flag is archived: listed and restorable, never served.
            archive.archive(conn, before.flagset.flags[key], actor=self.actor, now=now)
            repository.delete_flag(conn, key, before.flag_versions[key])
            return
        flag = after.flags[key]
        if change.op == "create":
            repository.insert_flag(conn, flag, now)
        elif change.definition_changed:
            repository.update_flag(conn, flag, before.flag_versions[key], now)
        for env in change.environments:
            repository.write_state(
                conn,
                key,
                environment=env,
                state=flag.environments.get(env),
                expected=before.state_version(key, env),
                now=now,
            )


@contextmanager
def mutation(store: Store, actor: str | None, *, force: bool = False) -> Iterator[Mutation]:
    """Open the one kind of transaction that changes the store (see module docs).

    Args:
        force: allow drift from a running plan (see :mod:`phased.service.guard`).
    """
    name = check_actor(actor)
    with store.write() as conn:
        m = Mutation(store=store, conn=conn, actor=name, now=store.clock(), force=force)
        yield m
        if m.entries:
            repository.bump_revision(conn)


def result_of(m: Mutation) -> Result:
    """The :class:`Result` of a finished mutation."""
    return Result(tuple(m.changes), tuple(m.entries), m.snapshot.revision + (1 if m.entries else 0))


# -- checks shared by the service modules --------------------------------------


def check_actor(actor: str | None) -> str:
    """A non-empty actor name, stripped."""
    if actor is None or not actor.strip():
        raise ValidationError(
            "every change needs an actor; pass --actor NAME or set PHASED_ACTOR", field="actor"
        )
    if len(actor.strip()) > 200:
        raise ValidationError("at most 200 characters", field="actor")
    return actor.strip()


class HasEnvironments(Protocol):
    """A store, or a backend: anything that knows the environments every flag has."""

    @property
    def environments(self) -> tuple[str, ...]:
        """The environments, in order."""
        ...


def check_environment(store: HasEnvironments, environment: str | None) -> str:
    """One of the store's (or the backend's) environments."""
    if environment is None or environment not in store.environments:
        raise ValidationError(
            f"unknown environment {environment!r}; use one of: {', '.join(store.environments)} "
            "(PHASED_ENVIRONMENTS sets the list)",
            field="env",
        )
    return environment


def check_version(current: int | None, expected: int | None, what: str) -> None:
    """Refuse a write made against an older version than the stored one."""
    if expected is not None and current != expected:
        now = "it does not exist" if current is None else f"it is at version {current}"
        raise ConflictError(
            f"{what} changed since version {expected}: {now}; reload it and retry",
            field="version",
        )


def require_flag(flagset: FlagSet, key: str) -> Flag:
    """The flag, or a NotFoundError listing what exists."""
    flag = flagset.flags.get(key)
    if flag is None:
        known = ", ".join(sorted(flagset.flags)[:10]) or "(none yet)"
        raise NotFoundError(
            f"no flag {key!r}; create it with `phased flag create {key}` (known: {known})",
            field="flag",
        )
    return flag


def require_segment(flagset: FlagSet, key: str) -> Segment:
    """The segment, or a NotFoundError listing what exists."""
    segment = flagset.segments.get(key)
    if segment is None:
        known = ", ".join(sorted(flagset.segments)[:10]) or "(none yet)"
        raise NotFoundError(f"no segment {key!r} (known: {known})", field="segment")
    return segment


def validated(build: Callable[[], T], field_prefix: str = "") -> T:
    """Run a model constructor; turn pydantic's error into one readable ValidationError."""
    try:
        return build()
    except PhasedError:
        raise
    except PydanticValidationError as exc:
        raise translate(exc, field_prefix) from None


def translate(exc: PydanticValidationError, field_prefix: str = "") -> ValidationError:
    """The first pydantic error as ``field: message`` (paths named inside messages kept)."""
    first = exc.errors(include_url=False)[0]
    loc: tuple[str | int, ...] = tuple(
        p for p in first["loc"] if not (isinstance(p, str) and "[" in p and "]" in p)
    )
    message = re.sub(r"^(Value|Assertion) error, ", "", str(first["msg"]))
    inner = re.match(r"^([A-Za-z0-9_.\[\]-]+): (.*)$", message, re.S)
    if inner and ("." in inner.group(1) or "[" in inner.group(1)):
        loc, message = loc + parse_loc(inner.group(1)), inner.group(2)
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a known field"
    field = ".".join(p for p in (field_prefix, format_loc(loc)) if p) or None
    return ValidationError(message, field=field)


def revalidated(flag: Flag) -> Flag:
    """``flag`` checked again as a whole (``model_copy`` skips the cross-field checks)."""
    return validated(
        lambda: Flag.model_validate(flag.model_dump(mode="python", by_alias=True)),
        f"flags.{flag.key}",
    )


def replace_flag(flagset: FlagSet, flag: Flag) -> FlagSet:
    """A validated flag set with ``flag`` added or replaced."""
    checked = revalidated(flag)
    return validated(
        lambda: FlagSet(
            environments=flagset.environments,
            segments=flagset.segments,
            flags={**flagset.flags, flag.key: checked},
        )
    )
