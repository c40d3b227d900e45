"""Flags, segments and flag sets: the declarative model.

These are validated values. They are what the flags file says, what the
store keeps (as JSON) and what the service layer transforms; evaluation
compiles them into plain objects (see :mod:`phased.core.evaluate`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    field_validator,
    model_validator,
)

from phased.core.conditions import Condition, parse_condition, render
from phased.errors import ValidationError as PhasedValidationError

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_KEY = re.compile(KEY_PATTERN)
KEY_RULE = (
    "1-64 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or digit"
)


def check_key(value: str, what: str = "key") -> str:
    """Validate a flag or segment key; the message says the rule."""
    if not isinstance(value, str) or not _KEY.match(value):
        raise ValueError(f"invalid {what} {value!r}: {KEY_RULE}")
    return value


def check_percent(value: float) -> float:
    """0..100 with at most two decimals."""
    if isinstance(value, bool) or not 0 <= value <= 100:
        raise ValueError(f"must be between 0 and 100 (got {value})")
    if abs(value * 100 - round(value * 100)) > 1e-6:
        raise ValueError(f"has at most two decimals (got {value})")
    return float(value)


def _condition(spec: object) -> Condition:
    # pydantic turns ValueError into a located error (file, line, field).
    try:
        return parse_condition(spec)
    except PhasedValidationError as exc:
        raise ValueError(exc.message) from None


ConditionField = Annotated[
    Condition,
    BeforeValidator(_condition),
    PlainSerializer(render, return_type=Any),
]
Percent = Annotated[
    float,
    BeforeValidator(
        lambda v: check_percent(float(v)) if not isinstance(v, bool) else check_percent(v)
    ),
]
Value = bool | str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Segment(_Model):
    """A named, reusable audience: a condition on context attributes."""

    key: str
    description: str = ""
    where: ConditionField

    _check_key = field_validator("key")(lambda cls, v: check_key(v, "segment key"))


class Override(_Model):
    """A value pinned for one attribute value (``user=u-1``, ``session=s-9``, ``org=acme``)."""

    attribute: str = Field(min_length=1)
    value: str
    serve: Value = True
    expires: datetime | None = None
    note: str = ""

    @property
    def label(self) -> str:
        """The reason text: ``override:user=user-123``."""
        return f"{self.attribute}={self.value}"

    def is_expired(self, now: datetime) -> bool:
        """An expired override stops matching and is listed as expired."""
        return self.expires is not None and self.expires <= now


class Rule(_Model):
    """Serve a value to an audience: a named segment, an inline condition, or both."""

    segment: str | None = None
    where: ConditionField | None = None
    serve: Value | None = None
    """``True``/``False`` or a variant; ``None`` means on (boolean) or the weighted split."""

    @model_validator(mode="after")
    def _audience(self) -> Rule:
        if self.segment is None and self.where is None:
            raise ValueError("a rule needs a 'segment' or a 'where' condition")
        return self

    @property
    def label(self) -> str:
        """The reason text: ``segment:admins`` or ``rule:role in [admin]``."""
        if self.segment is not None:
            return f"segment:{self.segment}"
        assert self.where is not None
        shown = render(self.where)
        return f"rule:{shown}" if isinstance(shown, str) else "rule:where"


class Prerequisite(_Model):
    """Flag ``flag`` must evaluate to ``is_`` (on, or a variant) for this flag to apply."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    flag: str
    is_: Value = Field(default=True, alias="is")


class FlagState(_Model):
    """One environment's state of a flag."""

    enabled: bool = True
    """The kill switch: a disabled flag serves its off value to everyone."""
    default: Value | None = None
    """What a context that no override, rule or rollout reached gets; off unless declared."""
    rollout: Percent = 0.0
    rules: tuple[Rule, ...] = ()
    overrides: tuple[Override, ...] = ()

    def with_changes(self, **changes: Any) -> FlagState:
        """A validated copy with some fields replaced."""
        return FlagState.model_validate({**self.model_dump(mode="python"), **changes})


class Flag(_Model):
    """A flag and its state in each environment."""

    key: str
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    variants: dict[str, int] | None = None
    """Multivariate flags: variant name -> weight in percent, summing to 100."""
    off_variant: str | None = None
    """The safe value of a multivariate flag (first variant unless declared)."""
    env_var: str | None = None
    """When this process environment variable is set, its value wins."""
    stickiness: str = "user"
    salt: str | None = None
    requires: tuple[Prerequisite, ...] = ()
    environments: dict[str, FlagState] = Field(default_factory=dict)
    payloads: dict[str, JsonValue] | None = None
    """Typed values per variant (``on``/``off`` for a boolean flag) for clients that ask
    for an object or a number: OFREP and the OpenFeature provider serve the payload of
    the variant a context gets instead of the variant's name."""

    _check_key = field_validator("key")(lambda cls, v: check_key(v, "flag key"))

    @field_validator("env_var")
    @classmethod
    def _env_var(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"invalid environment variable name {value!r}")
        return value

    @field_validator("payloads", mode="before")
    @classmethod
    def _payload_names(cls, value: Any) -> Any:
        # YAML reads a bare `on:` / `off:` key as true / false.
        if isinstance(value, dict):
            names = {True: "on", False: "off"}
            return {names.get(k, k) if isinstance(k, bool) else k: v for k, v in value.items()}
        return value

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        if len(value) < 2:
            raise ValueError("a multivariate flag needs at least two variants")
        for name, weight in value.items():
            check_key(name, "variant name")
            if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
                raise ValueError(f"weight of {name!r} must be a whole number 0..100 (got {weight})")
        total = sum(value.values())
        if total != 100:
            raise ValueError(f"variant weights must sum to 100 (got {total}), e.g. a=50,b=50")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Flag:
        if self.variants is None:
            if self.off_variant is not None:
                raise ValueError("off_variant is only for multivariate flags (set variants)")
            allowed: tuple[Value, ...] = (True, False)
        else:
            if self.off_variant is not None and self.off_variant not in self.variants:
                raise ValueError(
                    f"off_variant {self.off_variant!r} is not one of the variants "
                    f"{', '.join(self.variants)}"
                )
            allowed = tuple(self.variants)
        for env, state in self.environments.items():
            served: list[tuple[str, Value | None]] = [
                (f"environments.{env}.default", state.default)
            ]
            served += [
                (f"environments.{env}.rules[{i}].serve", r.serve) for i, r in enumerate(state.rules)
            ]
            served += [
                (f"environments.{env}.overrides[{i}].serve", o.serve)
                for i, o in enumerate(state.overrides)
            ]
            for where, value in served:
                if value is not None and not _same_value(value, allowed):
                    kinds = "true or false" if self.variants is None else ", ".join(self.variants)
                    raise ValueError(f"{where}: {value!r} is not a value of this flag ({kinds})")
        if self.payloads is not None:
            names = ("on", "off") if self.variants is None else tuple(self.variants)
            for name in self.payloads:
                if name not in names:
                    raise ValueError(
                        f"payloads.{name}: not a variant of this flag; use one of: "
                        f"{', '.join(names)}"
                    )
        return self

    @property
    def kind(self) -> Literal["boolean", "multivariate"]:
        """``boolean`` or ``multivariate``."""
        return "boolean" if self.variants is None else "multivariate"

    @property
    def off_value(self) -> Value:
        """The safe value: ``False`` or the off variant."""
        if self.variants is None:
            return False
        return self.off_variant or next(iter(self.variants))

    def state(self, environment: str) -> FlagState:
        """The state in ``environment`` (an undeclared environment is off: the default state)."""
        return self.environments.get(environment) or FlagState()

    def with_state(self, environment: str, state: FlagState) -> Flag:
        """A copy with one environment's state replaced."""
        return self.model_copy(update={"environments": {**self.environments, environment: state}})


def _same_value(value: Value, allowed: tuple[Value, ...]) -> bool:
    # bool is an int subclass and True == 1; compare types too.
    return any(type(value) is type(a) and value == a for a in allowed)


class FlagSet(_Model):
    """Everything one flags file or one store holds: segments and flags."""

    environments: tuple[str, ...] = ("dev", "staging", "prod")
    segments: dict[str, Segment] = Field(default_factory=dict)
    flags: dict[str, Flag] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> FlagSet:
        for key, flag in self.flags.items():
            if key != flag.key:
                raise ValueError(f"flags.{key}: key {flag.key!r} does not match its entry name")
            for env in flag.environments:
                if env not in self.environments:
                    raise ValueError(
                        f"flags.{key}.environments.{env}: unknown environment; "
                        f"known: {', '.join(self.environments)}"
                    )
            for env, state in flag.environments.items():
                for i, rule in enumerate(state.rules):
                    if rule.segment is not None and rule.segment not in self.segments:
                        raise ValueError(
                            f"flags.{key}.environments.{env}.rules[{i}].segment: unknown segment "
                            f"{rule.segment!r}; create it first or use one of: "
                            f"{', '.join(self.segments) or '(none defined)'}"
                        )
            for i, req in enumerate(flag.requires):
                if req.flag not in self.flags:
                    raise ValueError(f"flags.{key}.requires[{i}].flag: unknown flag {req.flag!r}")
                if req.flag == key:
                    raise ValueError(
                        f"flags.{key}.requires[{i}].flag: a flag cannot require itself"
                    )
        cycle = find_cycle({k: [r.flag for r in f.requires] for k, f in self.flags.items()})
        if cycle:
            raise ValueError(f"prerequisites form a cycle: {' -> '.join(cycle)}")
        return self


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle in a dependency graph, as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None
