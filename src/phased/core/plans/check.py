"""A check in a plan: a gate (a success criterion) or a trigger (a rollback trigger).

Both are a condition on one metric: a threshold on the candidate arm, or a
comparison with the control arm judged by the analysis. A trigger adds its
severity and the action it takes.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from phased.core.durations import Duration
from phased.core.plans.base import PlanPart

DEFAULT_TRIGGER_MIN_SAMPLES = 100


class Severity(StrEnum):
    """How bad a firing trigger is; it picks the default action."""

    CRITICAL = "critical"  # a guardrail: roll back by default
    WARNING = "warning"  # a signal: pause for a person by default


class Action(StrEnum):
    """What a firing trigger (or an open incident) does to the rollout."""

    ROLLBACK = "rollback"  # take the flag back to 0 % (the plan's audiences removed)
    DISABLE = "disable"  # also flip the kill switch off
    STEP_BACK = "step_back"  # return to the previous stage and pause there
    PAUSE = "pause"  # keep the current audience, wait for a person
    ALERT = "alert"  # only tell people; the rollout goes on

    @property
    def rank(self) -> int:
        """Which of several firing actions wins: the most protective one."""
        return {"disable": 4, "rollback": 3, "step_back": 2, "pause": 1, "alert": 0}[self.value]


OPERATORS: dict[str, str] = {"below": "<", "above": ">", "at_least": "≥", "at_most": "≤"}


class Check(PlanPart):
    """A condition on one metric: a threshold on the candidate, or a comparison with control."""

    metric: str = Field(description="A built-in metric, latency_pNN_ms, or a declared custom one.")
    below: float | None = None
    above: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    compare: Literal["control"] | None = Field(
        default=None, description="Compare the candidate with the control arm (sequential test)."
    )
    max_increase: float | None = Field(default=None, ge=0, description="Tolerated absolute rise.")
    max_increase_pct: float | None = Field(
        default=None, ge=0, description="Tolerated relative rise, in percent."
    )
    name: str | None = Field(default=None, description="A label shown instead of the condition.")
    source: str | None = Field(
        default=None,
        description="A metric source defined in sources.yaml (docs/sources.md); "
        "default: the outcomes the phased SDK recorded.",
    )
    query: str | None = Field(
        default=None,
        description="The source's query (PromQL; a web source's path or body), with "
        "{{flag}} {{stage}} {{arm}} {{interval}} {{environment}} filled in.",
    )
    jsonpath: str | None = Field(
        default=None, description="Web sources: where the number is in the JSON answer."
    )
    window: Duration | None = Field(
        default=None, description="{{interval}}: the time a source query covers (default 5m)."
    )
    confidence: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="mismatch_rate at_most/below only: hold with this confidence (upper bound).",
    )

    @model_validator(mode="after")
    def _one_condition(self) -> Check:
        from phased.core.plans.source_fields import check_source_fields

        check_source_fields(self)
        given = [op for op in OPERATORS if getattr(self, op) is not None]
        if self.compare is None:
            if len(given) != 1:
                raise ValueError(
                    f"{self.metric}: give exactly one of below / above / at_least / at_most, "
                    "or compare: control" + (f" (got {', '.join(given)})" if given else "")
                )
            if self.max_increase is not None or self.max_increase_pct is not None:
                raise ValueError("max_increase / max_increase_pct: only with compare: control")
        elif given:
            raise ValueError(f"compare: control cannot be combined with {', '.join(given)}")
        if self.confidence is not None and (
            self.metric != "mismatch_rate" or self.operator not in ("at_most", "below")
        ):
            raise ValueError(
                "confidence: only for {metric: mismatch_rate, at_most: RATE, confidence: LEVEL} "
                f"(got metric {self.metric} with {self.operator or 'compare'})"
            )
        return self

    @property
    def operator(self) -> str | None:
        """``below``/``above``/``at_least``/``at_most`` for a threshold, None for a comparison."""
        return next((op for op in OPERATORS if getattr(self, op) is not None), None)

    @property
    def threshold(self) -> float | None:
        """The threshold value (None for a comparison)."""
        op = self.operator
        return None if op is None else float(getattr(self, op))

    def holds(self, value: float) -> bool:
        """Whether ``value`` satisfies the threshold condition."""
        op, limit = self.operator, self.threshold
        assert op is not None
        assert limit is not None
        if op == "below":
            return value < limit
        if op == "above":
            return value > limit
        if op == "at_least":
            return value >= limit
        return value <= limit

    @property
    def label(self) -> str:
        """``error_rate < 0.01`` or ``error_rate vs control (+0.5 % tolerated)``."""
        if self.name:
            return self.name
        if self.compare is None:
            return f"{self.metric} {OPERATORS[self.operator or 'below']} {self.threshold:g}"
        tolerance = []
        if self.max_increase is not None:
            tolerance.append(f"+{self.max_increase:g}")
        if self.max_increase_pct is not None:
            tolerance.append(f"+{self.max_increase_pct:g} %")
        suffix = f" ({' or '.join(tolerance)} tolerated)" if tolerance else ""
        return f"{self.metric} not worse than control{suffix}"

    @property
    def test_key(self) -> str:
        """One name per distinct statistical test, for splitting the false-rollback budget."""
        if self.compare is None:
            return f"{self.metric}|{self.operator}|{self.threshold}"
        return f"{self.metric}|{self.max_increase}|{self.max_increase_pct}"

    @property
    def needs_evidence(self) -> bool:
        """A rate that must be shown to be above a threshold (not just seen above it once)."""
        return (
            self.compare is None
            and not self.external
            and self.metric in ("error_rate", "fallback_rate", "retry_rate")
            and self.operator in ("above", "at_least")
        )

    @property
    def external(self) -> bool:
        """Measured by a metric source other than the SDK's outcomes (see phased.sources)."""
        return self.source is not None and self.source != "sdk"


class Gate(Check):
    """A success criterion: the stage may advance only while it holds."""


class Trigger(Check):
    """A rollback trigger: when its condition holds, ``action`` happens at once."""

    severity: Severity = Severity.CRITICAL
    action: Action | None = Field(
        default=None, description="Default: rollback for critical, pause for warning."
    )
    min_samples: int = Field(
        default=DEFAULT_TRIGGER_MIN_SAMPLES,
        ge=0,
        description="Candidate requests in the stage before a threshold is checked.",
    )
    after: Duration = Field(
        default=timedelta(0), description="Time in the stage before a threshold is checked."
    )

    @property
    def effective_action(self) -> Action:
        """The action, defaulted from the severity."""
        if self.action is not None:
            return self.action
        return Action.ROLLBACK if self.severity is Severity.CRITICAL else Action.PAUSE
