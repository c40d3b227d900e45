"""Who an emergency change affects, in words: clearing every override, or the kill switch.

Pure: from a flag's state in one environment to the lines the confirmation
page lists before anyone presses the button. The audience preview another
change adds (who would lose the feature, counted on recent traffic) drops in
next to these lines; see ``templates/_preview.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from phased.core.conditions import render
from phased.core.flags import Flag, Value

Action = Literal["clear-overrides", "kill"]


def _served(value: Value | None) -> str:
    if value is None or value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


@dataclass(frozen=True, slots=True)
class Affected:
    """One group of people the change reaches."""

    who: str
    now: str
    after: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Impact:
    """What the confirmation page says before an emergency change."""

    action: Action
    title: str
    question: str
    groups: tuple[Affected, ...]
    nobody: bool
    """True when the change would change nobody's value (nothing to clear; already off)."""


def impact(flag: Flag, environment: str, action: Action, now: datetime) -> Impact:
    """Who ``action`` on ``flag`` in ``environment`` affects (see the module docs)."""
    state = flag.state(environment)
    groups: list[Affected] = []
    pinned = [o for o in state.overrides if not o.is_expired(now)]
    if action == "clear-overrides":
        for o in pinned:
            until = f"until {o.expires:%Y-%m-%d %H:%M} UTC" if o.expires else "no expiry"
            groups.append(
                Affected(
                    who=f"{o.attribute} {o.value}",
                    now=f"pinned to {_served(o.serve)} ({until})",
                    after="what the rules and the rollout give them",
                    note=o.note,
                )
            )
        expired = len(state.overrides) - len(pinned)
        if expired:
            groups.append(
                Affected(
                    who=f"{expired} expired override(s)",
                    now="no effect any more",
                    after="removed",
                )
            )
        return Impact(
            action=action,
            title=f"Clear every override of {flag.key} in {environment}",
            question=(
                f"Remove all {len(state.overrides)} override(s) of {flag.key} in {environment}?"
            ),
            groups=tuple(groups),
            nobody=not state.overrides,
        )
    if state.enabled:
        off = "the safe default: off"
        for o in pinned:
            groups.append(
                Affected(f"{o.attribute} {o.value}", f"pinned to {_served(o.serve)}", off)
            )
        for rule in state.rules:
            audience = f"segment {rule.segment}" if rule.segment else ""
            if rule.where is not None:
                audience = " and ".join(p for p in (audience, str(render(rule.where))) if p)
            groups.append(Affected(audience, _served(rule.serve), off))
        if state.rollout:
            groups.append(
                Affected(
                    f"{state.rollout:g} % of users (sticky on {flag.stickiness})",
                    "on",
                    off,
                )
            )
        groups.append(Affected(f"everyone else in {environment}", _served(state.default), off))
    return Impact(
        action=action,
        title=f"Kill switch: turn {flag.key} off in {environment}",
        question=f"Turn OFF (kill switch) {flag.key} in {environment}?",
        groups=tuple(groups),
        nobody=not state.enabled,
    )
