"""Rules on a check's metric-source fields (``source``, ``query``, ``jsonpath``, ``window``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phased.core.plans.check import Check
    from phased.core.plans.model import Plan

TEMPLATE_VARS: tuple[str, ...] = ("flag", "stage", "arm", "interval", "environment")


def check_source_fields(check: Check) -> None:
    """Raise ``ValueError`` when the source fields of one check do not fit together."""
    external = check.source is not None and check.source != "sdk"
    if not external:
        for name in ("query", "jsonpath", "window"):
            if getattr(check, name) is not None:
                raise ValueError(
                    f"{name}: only for a check with a metric source; add `source: NAME` "
                    "(a source from sources.yaml, see docs/sources.md)"
                )
        return
    if not check.query:
        raise ValueError(f"query: a check on source {check.source!r} needs a query")
    if check.jsonpath is not None:
        from phased.core.jsonpath import JsonPathError, parse_jsonpath

        try:
            parse_jsonpath(check.jsonpath)
        except JsonPathError as exc:
            raise ValueError(f"jsonpath: {exc}") from None
    if check.compare is not None and "{{arm}}" not in check.query:
        raise ValueError(
            "query: compare: control queries the source once per arm, so the query must "
            'select the arm with {{arm}} (e.g. arm="{{arm}}")'
        )


def check_plan_sources(plan: Plan, known: frozenset[str] | None) -> None:
    """Every source a plan names must be configured (``known``; None skips the check)."""
    if known is None:
        return
    valid = ", ".join(sorted(known | {"sdk"}))
    for where, check in plan_checks(plan):
        if check.source is not None and check.source != "sdk" and check.source not in known:
            raise ValueError(
                f"{where}.source: unknown metric source {check.source!r}; configured: {valid} "
                "(define it in sources.yaml, see docs/sources.md)"
            )
    for i, stage in enumerate(plan.stages):
        for phase in ("pre_stage", "confirm_advance", "post_stage", "on_rollback"):
            for j, hook in enumerate(stage.hooks.of(phase)):
                if hook.auth is not None and hook.auth not in known:
                    raise ValueError(
                        f"stages[{i}].hooks.{phase}[{j}].auth: unknown source {hook.auth!r}; "
                        f"configured: {valid}"
                    )


def plan_checks(plan: Plan) -> list[tuple[str, Check]]:
    """Every gate and trigger of the plan with its field path."""
    out: list[tuple[str, Check]] = [(f"rollback[{j}]", t) for j, t in enumerate(plan.rollback)]
    for i, stage in enumerate(plan.stages):
        out += [(f"stages[{i}].gates[{j}]", g) for j, g in enumerate(stage.gates)]
        out += [(f"stages[{i}].rollback[{j}]", t) for j, t in enumerate(stage.rollback)]
    return out
