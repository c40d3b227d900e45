"""Gates and triggers on a metric source: values the engine fetched, judged without I/O.

The engine queries each source (Prometheus, a web endpoint, …) before it
calls ``decide`` and hands the results in as :class:`Measurement` values on
``Observations.measurements``. This module turns one measurement into a
``GateResult``. Missing data is never good news: a source that was down,
slow, or answered nothing makes the check ``inconclusive`` (a gate holds, a
trigger does not fire), and after ``plan.inconclusive_limit`` such checks in
a row the rollout pauses and alerts (:func:`stalled_sources`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from phased.core.gates import GateResult, Verdict
from phased.core.plans.check import Action

if TYPE_CHECKING:
    from phased.core.plans.check import Check
    from phased.core.plans.model import Plan

DEFAULT_WINDOW_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one source answered for one check at one moment (both arms for a comparison)."""

    source: str
    query: str
    """The query as sent (template variables filled in; the candidate arm's for a comparison)."""
    ok: bool
    value: float | None = None
    control_value: float | None = None
    latency_ms: float = 0.0
    message: str = ""
    """Why the answer is inconclusive (redacted), or empty."""
    streak: int = 0
    """Inconclusive answers in a row for this check in this stage, this one included."""


def measurement_key(check: Check) -> str:
    """The key of a check's measurement: checks asking the same thing share one query."""
    return f"{check.source}|{check.metric}|{check.query}|{check.jsonpath}|{check.window}"


_VAR = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def render_query(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{{flag}}``, ``{{stage}}``, ``{{arm}}``, ``{{interval}}``, ``{{environment}}``.

    An unknown variable is left as written, so the source's own error names it.
    """
    return _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def prometheus_duration(seconds: float) -> str:
    """A PromQL duration: ``5m``, ``90s``, ``2h`` (at least 1s)."""
    whole = max(1, int(seconds))
    for unit, size in (("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def window_seconds(check: Check) -> float:
    """The time a source query covers: the check's ``window`` or 5 minutes."""
    return check.window.total_seconds() if check.window is not None else DEFAULT_WINDOW_SECONDS


def evaluate_measured(
    check: Check,
    kind: Literal["gate", "trigger"],
    measurement: Measurement | None,
    *,
    stage: str,
) -> GateResult:
    """Judge one gate or trigger on a source's measurement (None: not measured yet)."""
    base = {
        "kind": kind,
        "label": check.label,
        "metric": check.metric,
        "stage": stage,
        "compare": check.compare is not None,
    }
    if measurement is None:
        return GateResult(
            **base,
            verdict=Verdict.INCONCLUSIVE,
            threshold=check.threshold,
            reason=f"{check.metric}: source {check.source} not queried yet (stage {stage})",
        )
    took = f"{measurement.latency_ms:.0f} ms"
    if not measurement.ok or measurement.value is None:
        streak = f", {measurement.streak} in a row" if measurement.streak > 1 else ""
        return GateResult(
            **base,
            verdict=Verdict.INCONCLUSIVE,
            threshold=check.threshold,
            reason=(
                f"{check.metric}: inconclusive, source {measurement.source}: "
                f"{measurement.message or 'no value'} ({took}{streak}; stage {stage})"
            ),
        )
    value = measurement.value
    if check.compare is not None:
        control = measurement.control_value
        if control is None:
            return GateResult(
                **base,
                verdict=Verdict.INCONCLUSIVE,
                value=value,
                reason=(
                    f"{check.metric}: inconclusive, no value for the control arm (stage {stage})"
                ),
            )
        limit = allowed_value(control, check.max_increase, check.max_increase_pct)
        worse = value > limit
        healthy = not worse
        return GateResult(
            **base,
            verdict=_verdict(kind, healthy),
            value=value,
            control_value=control,
            threshold=limit,
            reason=(
                f"{check.metric} {fmt_value(value)} vs control {fmt_value(control)} "
                f"({'above' if worse else 'within'} the allowed {fmt_value(limit)}; "
                f"source {measurement.source}, {took})"
            ),
        )
    limit_value = check.threshold
    assert limit_value is not None
    holds = check.holds(value)
    healthy = holds if kind == "gate" else not holds
    relation = "<" if value < limit_value else ">" if value > limit_value else "="
    return GateResult(
        **base,
        verdict=_verdict(kind, healthy),
        value=value,
        threshold=limit_value,
        reason=(
            f"{check.metric} {fmt_value(value)} {relation} {fmt_value(limit_value)} "
            f"(source {measurement.source}, {took})"
        ),
    )


def fmt_value(value: float) -> str:
    """A source's number as people read it: ``1,000``, ``0.031``, ``45``."""
    return f"{value:,.6g}"


def allowed_value(control: float, increase: float | None, increase_pct: float | None) -> float:
    """The highest candidate value still "not worse than control" (the larger tolerance wins)."""
    limits = [control]
    if increase is not None:
        limits.append(control + increase)
    if increase_pct is not None:
        limits.append(control + abs(control) * increase_pct / 100.0)
    return max(limits)


def _verdict(kind: str, healthy: bool) -> Verdict:
    return Verdict.PASS if healthy else Verdict.FAIL


def measured_result(
    check: Check,
    kind: Literal["gate", "trigger"],
    stage: str,
    measurements: Mapping[str, Measurement],
) -> GateResult | None:
    """The result of a check on a metric source; None for a check on the SDK's outcomes."""
    if not check.external:
        return None
    return evaluate_measured(check, kind, measurements.get(measurement_key(check)), stage=stage)


def stage_checks(plan: Plan, index: int) -> list[tuple[Check, Literal["gate", "trigger"]]]:
    """The checks in force at stage ``index`` that a metric source answers."""
    out: list[tuple[Check, Literal["gate", "trigger"]]] = [
        (t, "trigger") for t in plan.triggers_for(index) if t.external
    ]
    out += [(g, "gate") for g in plan.stages[index].gates if g.external]
    return out


def stalled_sources(
    plan: Plan, index: int, measurements: Mapping[str, Measurement]
) -> list[tuple[Action, str]]:
    """A pause per check whose source was inconclusive ``inconclusive_limit`` times in a row."""
    out: list[tuple[Action, str]] = []
    seen: set[str] = set()
    for check, _kind in stage_checks(plan, index):
        key = measurement_key(check)
        m = measurements.get(key)
        if key in seen or m is None or m.ok or m.streak < plan.inconclusive_limit:
            continue
        seen.add(key)
        out.append(
            (
                Action.PAUSE,
                f"source {m.source} inconclusive {m.streak} times in a row for {check.label}: "
                f"{m.message or 'no value'}",
            )
        )
    return out
