"""The base of every part of a plan model, and how a plan writes a condition.

Every part forbids unknown fields (a typo in a plan is an error naming it)
and is frozen (a validated plan never changes under the engine).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)

from phased.core.conditions import Condition, parse_condition, render
from phased.errors import ValidationError as PhasedValidationError


class PlanPart(BaseModel):
    """A part of a plan: unknown fields refused, frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


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
