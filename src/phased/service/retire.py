"""Retiring a flag once the new path has won, and finding flags that are done.

``retire`` checks the prerequisites (:mod:`phased.core.retire`), refuses
unless they all hold (``force`` overrides, and says so in the audit), makes
the new value the permanent default in every environment, and archives the
flag through :func:`archive_flag`. ``stale`` lists flags fully rolled out or
unused for a configurable time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from phased.core.flags import Flag, Value
from phased.core.outcomes import SLOT_SECONDS, Arm
from phased.core.retire import Prerequisite, RetireFacts, prerequisites, stale_reason
from phased.errors import ConflictError, ValidationError
from phased.service import audit as audit_service
from phased.service import flags as flag_service
from phased.service import rollout_records as records
from phased.service.base import mutation, require_flag
from phased.store import golden_runs as golden_repo
from phased.store import outcomes as outcomes_repo
from phased.store.engine import Store

DEFAULT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Retired:
    """What ``retire`` found and did."""

    flag: str
    value: Value
    prerequisites: tuple[Prerequisite, ...]
    retired: bool
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "flag": self.flag,
            "value": self.value,
            "retired": self.retired,
            "forced": self.forced,
            "prerequisites": [p.to_dict() for p in self.prerequisites],
        }


def _new_value(flag: Flag, value: str | None) -> Value:
    if flag.variants is None:
        if value not in (None, "on", "true"):
            raise ValidationError(
                f"{flag.key} is a boolean flag: its new value is on (got {value!r})", field="value"
            )
        return True
    if value is None or value not in flag.variants:
        raise ValidationError(
            f"{flag.key} has variants {', '.join(flag.variants)}: say which one is the new "
            "behaviour with --value VARIANT",
            field="value",
        )
    return value


def _time(slot: int | None) -> datetime | None:
    return None if slot is None else datetime.fromtimestamp(slot * SLOT_SECONDS, tz=UTC)


def _last_window(store: Store, key: str, arm: Arm | None) -> datetime | None:
    with store.read() as conn:
        return _time(outcomes_repo.last_traffic_slot(conn, key, arm))


def _last_change(store: Store, key: str) -> datetime | None:
    entries = audit_service.recent(store, entity=f"flag:{key}", limit=1)
    return entries[0].ts if entries else None


def _goldens(store: Store, key: str) -> dict[str, bool]:
    with store.read() as conn:
        return golden_repo.latest_verdicts(conn, key)


def facts_of(
    store: Store, key: str, *, value: str | None = None, code_refs: int | None = None
) -> RetireFacts:
    """Everything the prerequisites look at, read from the store now."""
    flag = flag_service.get_flag(store, key).flag
    with store.read() as conn:
        rollout = records.latest(conn, key)
    return RetireFacts(
        flag=flag,
        environments=tuple(store.environments),
        new=_new_value(flag, value),
        now=store.clock(),
        last_change=_last_change(store, key),
        rollout_phase=None if rollout is None else rollout.state.phase.value,
        goldens=_goldens(store, key),
        last_old_traffic=_last_window(store, key, Arm.CONTROL),
        code_refs=code_refs,
    )


def check(
    store: Store,
    key: str,
    *,
    days: int = DEFAULT_DAYS,
    value: str | None = None,
    code_refs: int | None = None,
) -> list[Prerequisite]:
    """The prerequisites of retiring ``key`` and whether each holds."""
    return prerequisites(facts_of(store, key, value=value, code_refs=code_refs), days)


def archive_flag(store: Store, *, actor: str | None, key: str) -> None:
    """Archive a retired flag.

    The join point with flag archiving: ``flags.delete_flag`` archives a flag
    where archiving exists (its definition and states stay restorable) and
    deletes it otherwise.
    """
    flag_service.delete_flag(store, actor=actor, key=key)


def retire(
    store: Store,
    *,
    actor: str | None,
    key: str,
    days: int = DEFAULT_DAYS,
    value: str | None = None,
    code_refs: int | None = None,
    force: bool = False,
) -> Retired:
    """Check the prerequisites; if all hold (or ``force``), make the new value permanent, archive.

    Raises:
        ConflictError: a prerequisite does not hold (the message lists which), or a
            rollout of the flag is still going.
    """
    if days < 0:
        raise ValidationError(f"must be 0 or more (got {days})", field="days")
    facts = facts_of(store, key, value=value, code_refs=code_refs)
    found = tuple(prerequisites(facts, days))
    missing = [p for p in found if not p.holds]
    if missing and not force:
        raise ConflictError(
            f"cannot retire {key!r} yet: "
            + "; ".join(f"{p.name}: {p.detail}" for p in missing)
            + " (see `phased flag retire --check`; --force retires anyway, on record)",
            field="flag",
        )
    if facts.rollout_phase not in (None, "completed", "rolled_back"):
        raise ConflictError(
            f"a rollout of {key!r} is still {facts.rollout_phase}; let it finish or stop it first",
            field="flag",
        )
    with mutation(store, actor) as m:
        flagset = m.snapshot.flagset
        after = require_flag(flagset, key)
        for env in m.store.environments:
            state = after.state(env)
            rollout = 100.0 if after.variants is None else state.rollout
            after = after.with_state(
                env, state.with_changes(enabled=True, default=facts.new, rollout=rollout)
            )
        m.commit(
            flagset.model_copy(update={"flags": {**flagset.flags, key: after}}),
            "flag.retire",
            {"forced": bool(missing), "prerequisites": [p.to_dict() for p in found]},
        )
    archive_flag(store, actor=actor, key=key)
    return Retired(key, facts.new, found, retired=True, forced=bool(missing))


@dataclass(frozen=True, slots=True)
class StaleFlag:
    """A flag that looks done."""

    key: str
    reason: str
    last_change: datetime | None
    last_traffic: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "flag": self.key,
            "reason": self.reason,
            "last_change": None if self.last_change is None else self.last_change.isoformat(),
            "last_traffic": None if self.last_traffic is None else self.last_traffic.isoformat(),
        }


def stale(store: Store, *, days: int = 30) -> list[StaleFlag]:
    """Flags fully rolled out, or without any outcome, and unchanged for ``days``."""
    if days < 1:
        raise ValidationError(f"must be at least 1 (got {days})", field="days")
    now = store.clock()
    out: list[StaleFlag] = []
    for stored in flag_service.list_flags(store):
        flag = stored.flag
        last_change = _last_change(store, flag.key)
        last_traffic = _last_window(store, flag.key, None)
        reason = stale_reason(
            flag,
            tuple(store.environments),
            now=now,
            last_change=last_change,
            last_traffic=last_traffic,
            days=days,
        )
        if reason is not None:
            out.append(StaleFlag(flag.key, reason, last_change, last_traffic))
    return out
