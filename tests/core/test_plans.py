"""Plan files: what a plan can say, and bad input named by file, line and field."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.flags import FlagState, Override, Rule
from phased.core.plans import (
    Action,
    Mode,
    parse_plan,
    plan_schema,
    rolled_back_flag_state,
    stage_flag_state,
)
from phased.core.plans.audience import describe_audience
from phased.core.plans.render import render_markdown
from phased.errors import SourceError

GOOD = """\
flag: ux_updates
title: UX agent canary
environment: prod
mode: dry_run
metrics: [accuracy]
stages:
  - name: admins
    audience: "role in [admin]"
    min_duration: 48h
    max_duration: 72h
    min_samples: 50
    gates:
      - {metric: error_rate, below: 0.01}
      - {metric: latency_p95_ms, at_most: 5000}
      - {metric: accuracy, at_least: 0.8}
      - {metric: error_rate, compare: control, max_increase: 0.005}
    approval: {roles: pm}
    checklist: [no open P0/P1 bugs]
  - name: pms
    audience: {where: "role in [pm]"}
    min_duration: 5d
    rollback:
      - {metric: error_rate, above: 0.005}
  - name: beta
    audience: {segments: [beta], percent: 10}
  - name: everyone
    audience: 100
rollback:
  - {metric: error_rate, above: 0.01, severity: critical}
  - {metric: retry_rate, above: 0.05, severity: warning}
  - {metric: latency_p95_ms, compare: control, max_increase_pct: 20, action: step_back}
budget:
  cost_usd_per_day: {pause: 5, rollback: 10}
incidents: {P0: rollback, P1: pause}
analysis: {false_rollback_rate: 0.01}
"""

MINIMAL = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary
    audience: 5
  - name: half
    audience: 50
"""


def error_of(text: str, **kwargs: object) -> str:
    with pytest.raises(SourceError) as info:
        parse_plan(text, "plan.yaml", **kwargs)  # type: ignore[arg-type]
    return str(info.value)


class TestParse:
    """A plan file says everything the seeds' rollout documents say."""

    def test_everything_a_plan_can_say(self) -> None:
        plan = parse_plan(GOOD, "plan.yaml")
        assert plan.mode is Mode.DRY_RUN
        admins = plan.stages[0]
        assert admins.min_duration == timedelta(hours=48)
        assert admins.max_duration == timedelta(days=3)
        assert admins.approval is not None
        assert admins.approval.roles == ("pm",)
        assert admins.checklist == ("no open P0/P1 bugs",)
        assert [g.operator for g in admins.gates] == ["below", "at_most", "at_least", None]
        assert plan.stages[2].audience.segments == ("beta",)
        assert plan.cumulative_percent(3) == 100
        assert plan.rollback[1].effective_action is Action.PAUSE
        assert plan.rollback[0].effective_action is Action.ROLLBACK
        assert plan.incidents["P1"] is Action.PAUSE
        assert plan.analysis.false_rollback_rate == 0.01

    def test_budget_becomes_pause_and_rollback_triggers(self) -> None:
        plan = parse_plan(GOOD)
        budget = [t for t in plan.triggers_for(0) if t.metric == "cost_usd_per_day"]
        assert [(t.above, t.effective_action) for t in budget] == [
            (5.0, Action.PAUSE),
            (10.0, Action.ROLLBACK),
        ]

    def test_stage_triggers_add_to_plan_triggers(self) -> None:
        plan = parse_plan(GOOD)
        assert len(plan.triggers_for(1)) == len(plan.triggers_for(0)) + 1

    def test_defaults(self) -> None:
        plan = parse_plan(MINIMAL)
        assert plan.mode is Mode.ENFORCE
        assert plan.analysis.false_rollback_rate == 0.005
        assert plan.incidents == {"P0": Action.ROLLBACK}
        assert plan.stickiness == "user"

    def test_dump_reads_back(self) -> None:
        plan = parse_plan(GOOD)
        again = parse_plan(json.dumps(plan.model_dump(mode="json")))
        assert again == plan

    def test_schema_describes_the_fields(self) -> None:
        schema = plan_schema()
        json.dumps(schema)
        assert {"flag", "stages", "rollback", "budget", "analysis"} <= set(schema["properties"])
        assert "Stage" in schema["$defs"]


class TestBadInput:
    """Each mistake is refused with file, line and field, and says what is valid."""

    def test_unknown_metric_lists_the_valid_ones(self) -> None:
        message = error_of(MINIMAL + "    gates: [{metric: error_ratio, below: 0.01}]\n")
        assert message.startswith("plan.yaml:8: stages[1].gates[0].metric: unknown metric")
        assert "error_rate" in message
        assert "latency_p95_ms" in message

    def test_undeclared_custom_metric(self) -> None:
        message = error_of(MINIMAL + "    gates: [{metric: accuracy, at_least: 0.8}]\n")
        assert "declare a custom metric under 'metrics:'" in message

    def test_rate_out_of_range(self) -> None:
        message = error_of(MINIMAL + "    gates: [{metric: error_rate, below: 5}]\n")
        assert "stages[1].gates[0].below: must be between 0 and 1 for error_rate (got 5)" in message

    def test_percentages_going_down(self) -> None:
        text = MINIMAL + "  - name: less\n    audience: 25\n"
        message = error_of(text)
        assert message.startswith("plan.yaml:9: stages[2].audience.percent: 25 % is less")

    def test_percentages_per_environment(self) -> None:
        text = """\
flag: f
stages:
  - {name: dev, environment: dev, audience: 100}
  - {name: prod-canary, environment: prod, audience: 5}
"""
        assert parse_plan(text).cumulative_percent(1) == 5

    def test_approval_role_nobody_holds(self) -> None:
        text = MINIMAL + "    approval: {roles: [ceo]}\n"
        message = error_of(text)
        assert "stages[1].approval.roles[0]: nobody can hold the role 'ceo'" in message
        assert parse_plan(text, roles=["ceo"]).stages[1].approval is not None

    def test_comparison_where_no_control_arm_exists(self) -> None:
        text = MINIMAL + "  - name: all\n    audience: 100\n"
        text += "    gates: [{metric: error_rate, compare: control}]\n"
        assert "no control arm at stage all" in error_of(text)

    def test_comparison_of_a_count(self) -> None:
        text = MINIMAL + "    gates: [{metric: requests, compare: control}]\n"
        assert "requests cannot be compared with control" in error_of(text)

    def test_threshold_and_comparison_together(self) -> None:
        text = MINIMAL + "    gates: [{metric: error_rate, below: 0.1, compare: control}]\n"
        assert "cannot be combined" in error_of(text)

    def test_no_environment(self) -> None:
        text = "flag: f\nstages:\n  - {name: a, audience: 5}\n"
        assert "stages[0].environment: no environment" in error_of(text)

    def test_bad_duration(self) -> None:
        text = MINIMAL.replace("audience: 5", "audience: 5\n    min_duration: two days")
        message = error_of(text)
        assert "plan.yaml:6: stages[0].min_duration" in message
        assert "48h" in message

    def test_unknown_field(self) -> None:
        message = error_of(MINIMAL.replace("audience: 50", "audience: 50\n    soak: 1h"))
        assert "stages[1].soak: is not a known field" in message

    def test_duplicate_stage_names(self) -> None:
        message = error_of(MINIMAL.replace("name: half", "name: canary"))
        assert "stages[1].name: 'canary' is already the name of stages[0]" in message

    def test_empty_audience(self) -> None:
        message = error_of(MINIMAL.replace("audience: 50", "audience: {}"))
        assert "stages[1].audience" in message

    def test_bad_condition(self) -> None:
        message = error_of(MINIMAL.replace("audience: 50", 'audience: "role is admin"'))
        assert "plan.yaml:7: stages[1].audience" in message
        assert "unknown operator" in message


class TestStageFlagState:
    """Applying a stage writes rules and a rollout; audiences only grow within an environment."""

    def test_cohorts_accumulate(self) -> None:
        plan = parse_plan(GOOD)
        state = stage_flag_state(plan, 1, FlagState(enabled=False))
        assert state.enabled
        assert [r.label for r in state.rules] == ["rule:role in [admin]", "rule:role in [pm]"]
        assert state.rollout == 0
        beta = stage_flag_state(plan, 2, state)
        assert [r.label for r in beta.rules][-1] == "segment:beta"
        assert beta.rollout == 10

    def test_other_rules_and_overrides_stay(self) -> None:
        plan = parse_plan(GOOD)
        mine = Rule(where="country in [nz]")  # type: ignore[arg-type]
        pinned = Override(attribute="user", value="u-1", serve=False)
        current = FlagState(rules=(mine,), overrides=(pinned,))
        state = stage_flag_state(plan, 0, current)
        assert mine in state.rules
        assert state.overrides == (pinned,)
        back = rolled_back_flag_state(plan, "prod", stage_flag_state(plan, 2, state))
        assert back.rules == (mine,)
        assert back.rollout == 0
        assert back.enabled
        assert not rolled_back_flag_state(plan, "prod", state, disable=True).enabled

    def test_describe(self) -> None:
        plan = parse_plan(GOOD)
        assert describe_audience(plan, 0) == "role in [admin] in prod"
        assert describe_audience(plan, 3) == "everyone in prod"

    @given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=6))
    def test_percentages_never_go_down(self, percents: list[int]) -> None:
        stages = "".join(f"  - {{name: s{i}, audience: {p}}}\n" for i, p in enumerate(percents))
        text = f"flag: f\nenvironment: prod\nstages:\n{stages}"
        if percents != sorted(percents):
            with pytest.raises(SourceError, match="percentages only grow"):
                parse_plan(text)
            return
        plan = parse_plan(text)
        state = FlagState()
        rollouts = []
        for i in range(len(percents)):
            state = stage_flag_state(plan, i, state)
            rollouts.append(state.rollout)
        assert rollouts == sorted(rollouts)
        assert rollouts == [float(p) for p in percents]


class TestRender:
    """The Markdown document lists stages, criteria, triggers and a sign-off table."""

    def test_document(self) -> None:
        text = render_markdown(parse_plan(GOOD))
        assert text.startswith("# Rollout plan: UX agent canary")
        assert "### 1. admins" in text
        assert "| error_rate | < 0.01 | ___ | ⏳ |" in text
        assert "at least 2d, at most 3d (then hold and alert)" in text
        assert "## Approval sign-off" in text
        assert "| admins | pm | ____________ | ______ |" in text
        assert "| cost_usd_per_day | > 10 (once the stage has run 1h) |" in text
        assert "| P1 | pause for a person |" in text
