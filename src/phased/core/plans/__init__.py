"""Rollout plans: the file format, its validation, and what a stage does to a flag."""

from phased.core.plans.audience import (
    describe_audience,
    rolled_back_flag_state,
    stage_flag_state,
)
from phased.core.plans.check import Action, Gate, Severity, Trigger
from phased.core.plans.load import parse_plan, plan_schema
from phased.core.plans.model import (
    DEFAULT_ROLES,
    Analysis,
    Approval,
    Audience,
    Budget,
    BudgetLimit,
    Mode,
    Plan,
    Stage,
)

__all__ = [
    "DEFAULT_ROLES",
    "Action",
    "Analysis",
    "Approval",
    "Audience",
    "Budget",
    "BudgetLimit",
    "Gate",
    "Mode",
    "Plan",
    "Severity",
    "Stage",
    "Trigger",
    "describe_audience",
    "parse_plan",
    "plan_schema",
    "rolled_back_flag_state",
    "stage_flag_state",
]
