"""The plan file as a validated model: stages, audiences, gates, approvals, triggers.

A plan is what a rollout document says, in a form the engine can execute. The
cross-field rules (known metrics, percentages that only grow, approval roles
someone can hold) live in :mod:`phased.core.plans.checks` and run as the last
step of validation; see ``docs/plans.md`` for every field.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from phased.core.compare import CompareMode, DeprecationPhase
from phased.core.conditions import Condition, parse_condition, render
from phased.core.durations import Duration
from phased.core.flags import Percent, check_key
from phased.core.plans.extensions import AlertHandling, StageHooks
from phased.errors import ValidationError as PhasedValidationError

DEFAULT_ROLES: tuple[str, ...] = ("admin", "pm", "developer", "viewer")
DEFAULT_FALSE_ROLLBACK_RATE = 0.005
DEFAULT_TRIGGER_MIN_SAMPLES = 100
INCIDENT_SEVERITIES = ("P0", "P1", "P2", "P3")


def _condition(value: object) -> Condition:
    # parse_condition raises phased's ValidationError; pydantic only turns
    # ValueError into a located error, so translate to keep file:line: field.
    try:
        return parse_condition(value)
    except PhasedValidationError as exc:
        raise ValueError(exc.message) from None


PlanCondition = Annotated[
    Condition,
    BeforeValidator(_condition),
    PlainSerializer(render, return_type=Any),
    WithJsonSchema(
        {
            "description": "'ATTRIBUTE OPERATOR VALUE' (e.g. 'role in [admin, pm]'), a list "
            "(all must hold) or a mapping with one of all / any / not",
            "anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}],
        }
    ),
]


class Mode(StrEnum):
    """Whether the engine acts on its decisions."""

    ENFORCE = "enforce"  # decisions change the flag and send alerts
    DRY_RUN = "dry_run"  # decisions are recorded as "would ..."; nothing is changed or sent


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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Check(_Model):
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


class Audience(_Model):
    """Who gets the flag from this stage on, added to the audiences of the stages before it."""

    percent: Percent | None = Field(
        default=None, description="Percentage of all users (sticky; only grows between stages)."
    )
    segments: tuple[str, ...] = Field(default=(), description="Named segments of the flag set.")
    where: PlanCondition | None = Field(default=None, description="An attribute condition.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"percent": data}
        if isinstance(data, str):
            return {"where": data}
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> Audience:
        if self.percent is None and not self.segments and self.where is None:
            raise ValueError("give percent, segments or where (or a combination)")
        for name in self.segments:
            check_key(name, "segment key")
        return self


class Approval(_Model):
    """People who must approve before a stage starts (four-eyes: never only the requester)."""

    roles: tuple[str, ...] = Field(min_length=1, description="Any of these roles may approve.")
    count: int = Field(default=1, ge=1, description="How many different people must approve.")
    note: str = ""

    @field_validator("roles", mode="before")
    @classmethod
    def _one_role(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Stage(_Model):
    """One step of the rollout: an audience, how long it soaks, and what must hold."""

    name: str
    description: str = ""
    environment: str | None = Field(default=None, description="Default: the plan's environment.")
    audience: Audience
    min_duration: Duration = Field(default=timedelta(0), description="Soak time before advancing.")
    max_duration: Duration | None = Field(
        default=None, description="Past this without passing: hold and alert a person."
    )
    min_samples: int = Field(default=0, ge=0, description="Candidate requests before advancing.")
    min_successes: int = Field(default=0, ge=0, description="Successful candidate requests.")
    gates: tuple[Gate, ...] = ()
    rollback: tuple[Trigger, ...] = Field(default=(), description="Triggers for this stage only.")
    approval: Approval | None = Field(default=None, description="Needed before this stage starts.")
    checklist: tuple[str, ...] = Field(default=(), description="Ticked before this stage starts.")
    hooks: StageHooks = Field(
        default_factory=StageHooks,
        description="pre_stage, confirm_advance, post_stage, on_rollback (docs/hooks.md).",
    )
    compare: CompareMode | None = Field(
        default=None,
        description="Old/new side by side: old, shadow (old serves), live (new serves) or new.",
    )
    deprecate: DeprecationPhase | None = Field(
        default=None,
        description="From this stage on, old commands warn, redirect or are removed.",
    )
    golden: tuple[str, ...] = Field(
        default=(),
        description="Golden suites whose latest reported run must pass before this stage starts.",
    )

    _check_name = field_validator("name")(lambda cls, v: check_key(v, "stage name"))
    _check_golden = field_validator("golden")(
        lambda cls, v: tuple(check_key(s, "golden suite") for s in v)
    )

    @model_validator(mode="after")
    def _durations(self) -> Stage:
        if self.max_duration is not None and self.max_duration < self.min_duration:
            raise ValueError("max_duration: must not be shorter than min_duration")
        return self


class BudgetLimit(_Model):
    """Spending limits on one cost metric of the candidate arm."""

    pause: float | None = Field(default=None, ge=0, description="Above this: pause.")
    rollback: float | None = Field(default=None, ge=0, description="Above this: roll back.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"pause": data}
        return data


class Budget(_Model):
    """Cost limits that apply at every stage (seed 002: $5/day pauses, $10/day rolls back)."""

    cost_usd_per_day: BudgetLimit | None = None
    cost_usd: BudgetLimit | None = None
    cost_per_request: BudgetLimit | None = None
    window: Duration = Field(
        default=timedelta(hours=1), description="Time in a stage before projections count."
    )

    def triggers(self) -> tuple[Trigger, ...]:
        """The limits as ordinary triggers."""
        out = []
        for metric in ("cost_usd_per_day", "cost_usd", "cost_per_request"):
            limit: BudgetLimit | None = getattr(self, metric)
            if limit is None:
                continue
            if limit.pause is not None:
                out.append(
                    Trigger(
                        metric=metric,
                        above=limit.pause,
                        severity=Severity.WARNING,
                        action=Action.PAUSE,
                        min_samples=1,
                        after=self.window,
                        name=f"budget: {metric} > {limit.pause:g}",
                    )
                )
            if limit.rollback is not None:
                out.append(
                    Trigger(
                        metric=metric,
                        above=limit.rollback,
                        action=Action.ROLLBACK,
                        min_samples=1,
                        after=self.window,
                        name=f"budget: {metric} > {limit.rollback:g}",
                    )
                )
        return tuple(out)


class Analysis(_Model):
    """Settings of the statistical judge."""

    false_rollback_rate: float = Field(
        default=DEFAULT_FALSE_ROLLBACK_RATE,
        gt=0,
        lt=0.5,
        description="Chance a healthy release is rolled back over the whole rollout.",
    )


class Start(_Model):
    """How the plan starts from the flag's audience of today."""

    allow_shrink: bool = Field(
        default=False,
        description="false (default): the plan keeps today's audience (its rules stay, its "
        "percentage is a floor) and only widens it; a plan that would still take the flag "
        "from anyone is refused. true: the stages' audiences are exact, even where that takes "
        "the flag away from people who have it (the preview lists them).",
    )


class Plan(_Model):
    """A rollout plan: one flag, its ordered stages and the rules that move it."""

    flag: str
    title: str = ""
    description: str = ""
    owner: str | None = None
    environment: str | None = Field(default=None, description="Where stages run unless they say.")
    stickiness: str = Field(default="user", description="The attribute percentages stick to.")
    mode: Mode = Mode.ENFORCE
    analysis: Analysis = Analysis()
    metrics: tuple[str, ...] = Field(default=(), description="Custom metrics the app records.")
    stages: tuple[Stage, ...] = Field(min_length=1)
    rollback: tuple[Trigger, ...] = Field(default=(), description="Triggers for every stage.")
    budget: Budget | None = None
    inconclusive_limit: int = Field(
        default=3,
        ge=1,
        description="Inconclusive source checks in a row (source down, slow, empty) before "
        "the rollout pauses and alerts.",
    )
    on_alert: AlertHandling = Field(
        default_factory=AlertHandling,
        description="What a firing alert from an alert trigger does (docs/alert-triggers.md).",
    )
    incidents: dict[str, Action] = Field(
        default_factory=lambda: {"P0": Action.ROLLBACK},
        description="What an open incident of each severity does (P0 rolls back by default).",
    )
    start: Start = Field(default_factory=Start, description="How the plan treats today's audience.")

    _check_flag = field_validator("flag")(lambda cls, v: check_key(v, "flag key"))

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str | None, info: ValidationInfo) -> str | None:
        from phased.core.plans.checks import unknown_environment

        known = (info.context or {}).get("environments")
        if value is not None and known is not None and value not in known:
            raise ValueError(unknown_environment(value, tuple(known)))
        return value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Plan:
        from phased.core.plans.checks import check_plan
        from phased.core.plans.source_fields import check_plan_sources

        roles = (info.context or {}).get("roles", DEFAULT_ROLES)
        environments = (info.context or {}).get("environments")
        check_plan(self, tuple(roles), None if environments is None else tuple(environments))
        sources = (info.context or {}).get("sources")
        check_plan_sources(self, None if sources is None else frozenset(sources))
        return self

    # -- derived views used by the engine and the renderers -------------------

    def stage_environment(self, index: int) -> str:
        """The environment stage ``index`` runs in."""
        env = self.stages[index].environment or self.environment
        assert env is not None  # check_plan guarantees one
        return env

    def stage_index(self, name: str) -> int:
        """The position of the stage called ``name``."""
        for i, stage in enumerate(self.stages):
            if stage.name == name:
                return i
        raise KeyError(name)

    def cumulative_percent(self, index: int) -> float:
        """The percentage in force at stage ``index`` (the largest so far in its environment)."""
        env = self.stage_environment(index)
        return max(
            (
                s.audience.percent or 0.0
                for i, s in enumerate(self.stages[: index + 1])
                if self.stage_environment(i) == env
            ),
            default=0.0,
        )

    def triggers_for(self, index: int) -> tuple[Trigger, ...]:
        """Every trigger in force at stage ``index``: plan, stage and budget."""
        budget = self.budget.triggers() if self.budget else ()
        return (*self.rollback, *self.stages[index].rollback, *budget)

    def tests(self) -> list[Check]:
        """Every statistical test of the plan, which share the false-rollback budget.

        Comparisons with control (gates and triggers) and triggers on a rate
        above a threshold (see ``phased.core.analysis.threshold``).
        """
        checks: list[Check] = [*self.rollback]
        for stage in self.stages:
            checks += [*stage.gates, *stage.rollback]
        return [
            c
            for c in checks
            if c.compare is not None or (isinstance(c, Trigger) and c.needs_evidence)
        ]
