"""Who keeps, gains and loses a flag when its state in one environment changes (pure).

Every path that moves an audience (a plan's stage, ``flags apply``, a kill
switch, a percentage, a rule or an override) shows this preview before it
happens, and a plan is refused when the preview says someone loses the flag
(unless the plan asks for it: ``start: {allow_shrink: true}``).

An audience is described by its parts, in the words people use: ``25 % of
users``, ``segment admins``, ``role in [pm]``, ``override user=u-1``,
``everyone (default on)``. A part that serves the off value (an exclusion:
``override session=s-9 (off)``) is tracked too: adding one takes the flag
away from someone. The estimated share is the percentage of users the
rollout (or an on default) reaches; rules and overrides come on top and are
named, not estimated, since their size depends on the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phased.core.conditions import render
from phased.core.flags import Flag, FlagState, Rule, Value


@dataclass(frozen=True, slots=True)
class Audience:
    """The parts of one environment's audience: who gets a value other than off."""

    parts: tuple[str, ...]
    """Who gets the flag (a variant is named after an arrow: ``segment beta → wide``)."""
    excluded: tuple[str, ...]
    """Rules and overrides that serve the off value (they take the flag away)."""
    share: float
    """Estimated percentage of users reached by the rollout or an on default (0-100)."""
    enabled: bool


def _value_suffix(flag: Flag, value: Value | None) -> str:
    if flag.variants is None:
        return ""
    return " → split" if value is None else f" → {value}"


def _rule_text(rule: Rule) -> str:
    if rule.segment is not None and rule.where is not None:
        return f"segment {rule.segment} where {render(rule.where)}"
    if rule.segment is not None:
        return f"segment {rule.segment}"
    assert rule.where is not None  # a rule has a segment or a condition
    return str(render(rule.where))


def audience_of(flag: Flag, state: FlagState) -> Audience:
    """The audience ``state`` serves (empty when the kill switch is engaged)."""
    if not state.enabled:
        return Audience((), (), 0.0, enabled=False)
    off = flag.off_value
    parts: list[str] = []
    excluded: list[str] = []
    pinned: set[str] = set()
    for o in state.overrides:
        label = f"override {o.label}"
        if label in pinned:
            continue  # the first override of a context wins
        pinned.add(label)
        if o.serve == off and type(o.serve) is type(off):
            excluded.append(f"{label} (off)")
        else:
            parts.append(label + _value_suffix(flag, o.serve))
    matched: set[str] = set()
    for rule in state.rules:
        label = _rule_text(rule)
        if label in matched:
            continue  # the same audience earlier already decided: first match wins
        matched.add(label)
        if rule.serve is not None and rule.serve == off and type(rule.serve) is type(off):
            excluded.append(f"{label} (off)")
        else:
            parts.append(label + _value_suffix(flag, rule.serve))
    default_on = state.default is not None and not (
        state.default == off and type(state.default) is type(off)
    )
    if default_on:
        parts.append("everyone else (default on)" + _value_suffix(flag, state.default))
        share = 100.0
    else:
        share = state.rollout
    return Audience(tuple(parts), tuple(excluded), share, enabled=True)


@dataclass(frozen=True, slots=True)
class AudienceChange:
    """What one change does to one environment's audience."""

    flag: str
    environment: str
    keeps: tuple[str, ...]
    gains: tuple[str, ...]
    loses: tuple[str, ...]
    share_before: float
    share_after: float
    notes: tuple[str, ...] = ()
    """Things worth knowing that are neither gain nor loss (a stage below today's share)."""

    @property
    def shrinks(self) -> bool:
        """Someone who has the flag now would lose it."""
        return bool(self.loses)

    @property
    def moves(self) -> bool:
        """Anyone gains or loses the flag."""
        return bool(self.gains or self.loses)

    def lines(self) -> list[str]:
        """For people: one line each for keeps, gains, loses and the share."""
        head = f"{self.flag} in {self.environment}"
        out = [
            f"{head}: keeps {_join(self.keeps)}",
            f"{head}: gains {_join(self.gains)}",
            f"{head}: loses {_join(self.loses)}",
            f"{head}: estimated share {self.share_before:g} % -> {self.share_after:g} % of users",
        ]
        out += [f"{head}: note: {note}" for note in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``--json``, the API and audit details."""
        return {
            "flag": self.flag,
            "environment": self.environment,
            "keeps": list(self.keeps),
            "gains": list(self.gains),
            "loses": list(self.loses),
            "share_before": self.share_before,
            "share_after": self.share_after,
            "shrinks": self.shrinks,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudienceChange:
        """The inverse of :meth:`to_dict` (remote mode)."""
        return cls(
            flag=data["flag"],
            environment=data["environment"],
            keeps=tuple(data["keeps"]),
            gains=tuple(data["gains"]),
            loses=tuple(data["loses"]),
            share_before=float(data["share_before"]),
            share_after=float(data["share_after"]),
            notes=tuple(data.get("notes", ())),
        )


def _join(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "nobody"


def _percent(value: float) -> str:
    return f"{value:g} % of users"


def audience_change(
    flag: Flag, environment: str, before: FlagState | None, after: FlagState | None
) -> AudienceChange:
    """Compare the audiences ``before`` and ``after`` serve (None: no state, nobody).

    Args:
        flag: the flag (its variants decide what "off" is); its states are not read.
    """
    was = audience_of(flag, before) if before is not None else Audience((), (), 0.0, False)
    now = audience_of(flag, after) if after is not None else Audience((), (), 0.0, False)
    keeps = [p for p in was.parts if p in now.parts]
    gains = [p for p in now.parts if p not in was.parts]
    loses = [p for p in was.parts if p not in now.parts]
    # An exclusion added takes the flag away; one removed gives it back.
    if now.enabled:
        loses += [x for x in now.excluded if x not in was.excluded and was.enabled]
        gains += [
            x.removesuffix(" (off)") + " (no longer excluded)"
            for x in was.excluded
            if x not in now.excluded
        ]
    low, high = min(was.share, now.share), max(was.share, now.share)
    if low > 0:
        keeps.append(_percent(low))
    if now.share > was.share:
        gains.append(f"{high - low:g} % more of users ({was.share:g} -> {now.share:g} %)")
    elif now.share < was.share:
        loses.append(f"{high - low:g} % of users ({was.share:g} -> {now.share:g} %)")
    if was.enabled and not now.enabled and (was.parts or was.share):
        loses.insert(0, "everyone who had it (kill switch engaged)")
    return AudienceChange(
        flag=flag.key,
        environment=environment,
        keeps=tuple(keeps),
        gains=tuple(gains),
        loses=tuple(loses),
        share_before=was.share,
        share_after=now.share,
    )


def flag_changes(
    before: Flag | None, after: Flag | None, environments: tuple[str, ...]
) -> list[AudienceChange]:
    """The audience change of every environment whose state differs (deleting: all lose)."""
    subject = after or before
    if subject is None:
        return []
    out = []
    for env in environments:
        old = None if before is None else before.environments.get(env)
        new = None if after is None else after.environments.get(env)
        if old == new:
            continue
        if old is None and before is not None:
            old = FlagState()
        if new is None and after is not None:
            new = FlagState()
        change = audience_change(subject, env, old, new)
        if change.moves:
            out.append(change)
    return out
