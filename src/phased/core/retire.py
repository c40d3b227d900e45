"""Decommission, pure parts: is a flag fully rolled out, may it be retired, is it stale.

Seed 003's prerequisites before the legacy path goes ("SLOs healthy for 7
days at 100 %", "golden tests pass") and the issue's "no evaluation served the
old path for N days" become :class:`Prerequisite` values, each saying whether
it holds and why, computed from facts the service reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from phased.core.flags import Flag, Value

MAX_DAYS = 36_500
"""A hundred years: how long ``--days`` may ask (longer overflows a date, and means nothing)."""


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """One condition for retiring a flag, and whether it holds now."""

    name: str
    holds: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"name": self.name, "holds": self.holds, "detail": self.detail}


def serves_everyone(flag: Flag, environment: str, new: Value) -> str | None:
    """None when every context in ``environment`` gets ``new``; else why not."""
    state = flag.state(environment)
    if not state.enabled:
        return f"{environment}: the kill switch is engaged (everyone gets the old value)"
    old_overrides = [o.label for o in state.overrides if o.serve != new]
    if old_overrides:
        return f"{environment}: overrides still serve another value ({', '.join(old_overrides)})"
    old_rules = [r for r in state.rules if (True if r.serve is None else r.serve) != new]
    if old_rules:
        return f"{environment}: {len(old_rules)} rule(s) still serve another value"
    if state.default == new or (new is True and state.rollout >= 100):
        return None
    return f"{environment}: at {state.rollout:g} % with default {state.default!r}, not {new!r}"


@dataclass(frozen=True, slots=True)
class RetireFacts:
    """What the service read about one flag."""

    flag: Flag
    environments: tuple[str, ...]
    new: Value
    now: datetime
    last_change: datetime | None
    """The flag's last audited change."""
    rollout_phase: str | None
    """The phase of its latest rollout (None: never had one)."""
    goldens: dict[str, bool]
    """suite → whether its latest run reported for this flag passed."""
    last_old_traffic: datetime | None
    """The newest outcome window of the old path (the control arm), any environment."""
    code_refs: int | None
    """References found by ``phased flag refs`` in the given paths (None: not checked)."""


def prerequisites(facts: RetireFacts, days: int) -> list[Prerequisite]:
    """Every prerequisite, in the order ``phased flag retire`` prints them."""
    window = timedelta(days=days)
    out: list[Prerequisite] = []
    gaps = [g for g in (serves_everyone(facts.flag, e, facts.new) for e in facts.environments) if g]
    if gaps:
        out.append(Prerequisite("full", False, "; ".join(gaps)))
    elif facts.last_change is not None and facts.now - facts.last_change < window:
        since = facts.now - facts.last_change
        out.append(
            Prerequisite(
                "full",
                False,
                f"at 100 % everywhere, but changed {_ago(since)} ago (needs {days} days)",
            )
        )
    else:
        out.append(
            Prerequisite(
                "full",
                True,
                f"{facts.new!r} for everyone in every environment for at least {days} days",
            )
        )
    phase = facts.rollout_phase
    if phase == "completed":
        out.append(
            Prerequisite("gates", True, "the latest rollout completed with its gates healthy")
        )
    elif phase is None:
        out.append(
            Prerequisite("gates", False, "no rollout on record: nothing measured the new path")
        )
    else:
        out.append(Prerequisite("gates", False, f"the latest rollout is {phase}, not completed"))
    if not facts.goldens:
        out.append(
            Prerequisite(
                "goldens",
                False,
                "no golden run reported for this flag "
                "(phased golden test DIR --report SUITE --flag KEY)",
            )
        )
    else:
        failing = sorted(s for s, ok in facts.goldens.items() if not ok)
        out.append(
            Prerequisite(
                "goldens",
                not failing,
                "latest runs pass: " + ", ".join(sorted(facts.goldens))
                if not failing
                else "latest run fails: " + ", ".join(failing),
            )
        )
    last = facts.last_old_traffic
    if last is not None and facts.now - last < window:
        out.append(
            Prerequisite(
                "old_path_unused",
                False,
                f"the old path was used {_ago(facts.now - last)} ago (needs {days} days without)",
            )
        )
    else:
        what = "never recorded" if last is None else f"last used {_ago(facts.now - last)} ago"
        out.append(
            Prerequisite("old_path_unused", True, f"no old-path outcome for {days} days ({what})")
        )
    if facts.code_refs is None:
        out.append(Prerequisite("code", False, "not checked: give --code PATH (phased flag refs)"))
    elif facts.code_refs:
        out.append(
            Prerequisite("code", False, f"{facts.code_refs} reference(s) still read the flag")
        )
    else:
        out.append(Prerequisite("code", True, "no code reads the flag any more"))
    return out


def stale_reason(
    flag: Flag,
    environments: tuple[str, ...],
    *,
    now: datetime,
    last_change: datetime | None,
    last_traffic: datetime | None,
    days: int,
) -> str | None:
    """Why ``flag`` is stale (fully rolled out, or unused, for ``days``), or None."""
    window = timedelta(days=days)
    quiet = last_change is None or now - last_change >= window
    if not quiet:
        return None
    new: Value = True if flag.variants is None else next(iter(flag.variants))
    if flag.variants is None and all(serves_everyone(flag, e, new) is None for e in environments):
        return f"on for everyone in every environment, unchanged for {days}+ days: retire it"
    if last_traffic is None or now - last_traffic >= window:
        seen = "never" if last_traffic is None else f"last {_ago(now - last_traffic)} ago"
        return f"no outcome recorded for {days}+ days ({seen}) and unchanged: unused?"
    return None


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
