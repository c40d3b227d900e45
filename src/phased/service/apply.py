"""Declarative apply (GitOps): make the store hold exactly what a flags file says.

The diff is computed against the store, shown, and written in one
transaction (all of it or nothing); every changed flag and segment gets its
own ``flags.apply`` audit entry. With ``environment`` only that
environment's states are taken from the file (the other environments keep
what the store has); definitions and the set of flags always follow the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from phased.core.audience_change import AudienceChange, flag_changes
from phased.core.flags import Flag, FlagSet, FlagState
from phased.errors import ValidationError
from phased.service.base import check_environment, mutation, validated
from phased.service.diff import EntityChange, diff_flagsets
from phased.store import repository
from phased.store.audit import AuditEntry
from phased.store.engine import Store


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """The diff and, unless it was a dry run, the audit entries written for it."""

    changes: tuple[EntityChange, ...]
    applied: bool
    entries: tuple[AuditEntry, ...] = ()
    audience: tuple[AudienceChange, ...] = ()
    """Who gains and loses each changed flag, per environment (the same preview as plans)."""

    def lines(self) -> list[str]:
        """The diff for people, one change per line."""
        return [line for change in self.changes for line in change.lines()]


def desired_state(current: FlagSet, wanted: FlagSet, environment: str | None) -> FlagSet:
    """The flag set the store should hold after applying ``wanted``.

    The file speaks for the environments it lists (its ``environments:``; all
    of them unless ``environment`` narrows it to one). In those, a flag's state
    is what the file declares, and a state the file leaves out is killed
    (``enabled: false``): nobody gains a flag because a line is missing. The
    other environments keep what the store has.
    """
    unknown = [e for e in wanted.environments if e not in current.environments]
    if unknown:
        raise ValidationError(
            f"the file declares environment(s) {', '.join(unknown)} that the store does not "
            f"have (store: {', '.join(current.environments)}); fix the file or PHASED_ENVIRONMENTS",
            field="environments",
        )
    covered = tuple(
        e for e in current.environments if e in wanted.environments and environment in (None, e)
    )
    flags = {
        key: _scoped(current.flags.get(key), flag, covered, current.environments)
        for key, flag in wanted.flags.items()
    }
    return validated(
        lambda: FlagSet(environments=current.environments, segments=wanted.segments, flags=flags)
    )


KILLED = FlagState(enabled=False)
"""The state of an environment a file covers but does not declare."""


def _scoped(
    current: Flag | None, wanted: Flag, covered: tuple[str, ...], order: tuple[str, ...]
) -> Flag:
    states = {}
    for env in order:
        if env in covered:
            states[env] = wanted.environments.get(env, KILLED)
        elif current is not None and env in current.environments:
            states[env] = current.environments[env]
        elif current is None:
            states[env] = KILLED  # a new flag starts killed where nothing declares it
    return wanted.model_copy(update={"environments": states})


def plan(store: Store, wanted: FlagSet, *, environment: str | None = None) -> ApplyOutcome:
    """The diff ``apply`` would write, computed without writing (``--dry-run``)."""
    if environment is not None:
        check_environment(store, environment)
    with store.read() as conn:
        current = repository.load(conn, store.environments).flagset
    after = desired_state(current, wanted, environment)
    return ApplyOutcome(
        tuple(diff_flagsets(current, after)), False, audience=audience_of(current, after)
    )


def audience_of(before: FlagSet, after: FlagSet) -> tuple[AudienceChange, ...]:
    """The audience change of every flag that differs between two flag sets."""
    out: list[AudienceChange] = []
    for key in dict.fromkeys([*before.flags, *after.flags]):
        old, new = before.flags.get(key), after.flags.get(key)
        if old != new:
            out += flag_changes(old, new, after.environments)
    return tuple(out)


def apply(
    store: Store,
    *,
    actor: str | None,
    wanted: FlagSet,
    environment: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> ApplyOutcome:
    """Make the store match ``wanted`` in one transaction; nothing is written on any error.

    Args:
        environment: take only this environment's states from ``wanted``.
        source: recorded in every audit entry (e.g. the file path).
        dry_run: compute and return the diff only.
    """
    if dry_run:
        return plan(store, wanted, environment=environment)
    if environment is not None:
        check_environment(store, environment)
    with mutation(store, actor, force=force) as m:
        after = desired_state(m.snapshot.flagset, wanted, environment)
        audience = audience_of(m.snapshot.flagset, after)
        extra = {"source": source} if source else None
        m.commit(after, "flags.apply", extra)
    return ApplyOutcome(tuple(m.changes), True, tuple(m.entries), audience)
