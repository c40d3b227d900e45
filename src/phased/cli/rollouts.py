"""Plan-driven rollouts: ``phased plan apply`` and the ``phased rollout`` verbs that run them.

The verbs join the groups other modules own (``phased.cli.rollout_percent.app``,
``phased.cli.plan.app``): status, history, approve, check, advance, pause,
resume, rollback and report. Every change names its actor; ``--env`` (or
PHASED_ENV) is a guard: the command is refused if the rollout never runs in
that environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from phased.cli.common import (
    Actor,
    Db,
    Json,
    actor_of,
    console,
    open_backend,
    print_json,
    say,
)
from phased.cli.plan import app as plan_app
from phased.cli.rollout_percent import app as rollout_app

if TYPE_CHECKING:
    from phased.core.decide import Decision
    from phased.core.gates import GateResult
    from phased.service.approvals import Recorded
    from phased.service.plan_rollouts import Applied
    from phased.service.rollout_records import Rollout

Key = Annotated[str, typer.Argument(help="The flag key of the rollout.", show_default=False)]
EnvGuard = Annotated[
    str | None,
    typer.Option(
        "--env",
        help="Refuse unless the rollout runs in this environment (or PHASED_ENV).",
        show_default=False,
    ),
]
AllowShrink = Annotated[
    bool,
    typer.Option(
        "--allow-shrink",
        help="Let the stages' audiences be exact, even where people lose the flag they have.",
    ),
]
VERDICT = {
    "pass": "[green]pass[/]",
    "fail": "[red]FAIL[/]",
    "waiting": "[yellow]waiting[/]",
    "inconclusive": "[yellow]inconclusive[/]",
}
VERDICT["error"] = "[magenta]error[/]"


def env_guard(env: str | None) -> str | None:
    """``--env``, else PHASED_ENV when it is set explicitly, else no guard."""
    if env is not None:
        return env
    from phased.cli.common import settings

    conf = settings()
    return conf.env if "env" in conf.model_fields_set else None


def _applied_line(applied: Applied) -> str:
    d = applied.decision
    where = f"[dim](rollout #{applied.rollout.id}, now {applied.rollout.phase} at stage "
    return f"{applied.rollout.flag}: {d.reason} {where}{applied.rollout.stage.name})[/dim]"


def decision_json(decision: Decision) -> dict[str, Any]:
    """A decision without the full next state (``--json`` output)."""
    return decision.model_dump(mode="json", exclude={"state"})


def checks_table(results: tuple[GateResult, ...], *, suggest: bool = False) -> Any:
    """Each check's value, threshold and verdict (and seed 003's suggestion when asked)."""
    from rich.table import Table

    from phased.core.metric_format import fmt_metric
    from phased.obs.slo import suggested_actions

    table = Table(box=None, pad_edge=False)
    for column in ("kind", "check", "value", "threshold", "verdict"):
        table.add_column(column)
    if suggest:
        table.add_column("suggested action")
    for r in results:
        if r.compare:  # the threshold is on the evidence (an e-value), not on the metric
            value = fmt_metric(r.metric, r.value)
            if r.control_value is not None:
                value += f" vs {fmt_metric(r.metric, r.control_value)}"
            threshold = "—" if r.threshold is None else f"e-value ≥ {r.threshold:,.0f}"
        else:
            value, threshold = fmt_metric(r.metric, r.value), fmt_metric(r.metric, r.threshold)
        row = [r.kind, r.label, value, threshold, VERDICT.get(r.verdict.value, r.verdict.value)]
        if suggest:
            row.append(", ".join(suggested_actions(r.metric)) if r.verdict.value == "fail" else "")
        table.add_row(*row)
    return table


# -- phased plan apply ----------------------------------------------------------------------


@plan_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The plan file.", exists=True, dir_okay=False)],
    *,
    env: EnvGuard = None,
    allow_shrink: AllowShrink = False,
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Start a rollout of the plan; its first stage applies at once unless approvals are due.

    Prints, per environment, who keeps, gains and loses the flag at the first
    stage. The plan keeps today's audience and only widens it; a plan that
    would take the flag from anyone is refused unless it says
    `start: {allow_shrink: true}` or --allow-shrink is given.

    Example: phased plan apply examples/plans/awf-phase7.yaml --actor alice
    """
    who = actor_of(actor)
    with open_backend(db) as backend:
        applied = backend.plan_rollouts.apply_plan(
            actor=who,
            text=file.read_text(encoding="utf-8"),
            path=str(file),
            environment=env_guard(env),
            allow_shrink=allow_shrink,
        )
    if json_out:
        print_json(
            {
                "rollout": applied.rollout.to_dict(),
                "decision": decision_json(applied.decision),
                "preview": [p.to_dict() for p in applied.preview],
            }
        )
        return
    say(f"started rollout #{applied.rollout.id} of {applied.rollout.flag} from {file}")
    from rich.markup import escape

    for preview in applied.preview:
        for line in preview.lines():
            say(f"  {escape(line)}")
    say(_applied_line(applied))


# -- phased rollout status / history / report ---------------------------------------------


@rollout_app.command("status")
def status(
    key: Annotated[str | None, typer.Argument(help="A flag key; all rollouts if omitted.")] = None,
    *,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Where each rollout is; with KEY, every check now and the rollout at a glance.

    At a glance (as on the dashboard and in the API): what it waits for and who must
    act, the earliest next stage, exposure per arm, and every gate and trigger in
    plain numbers with how much worse the candidate would have to get to trip it.
    """
    with open_backend(db) as backend:
        if key is None:
            latest: dict[str, Rollout] = {}
            for r in backend.plan_rollouts.list_rollouts():
                latest.setdefault(r.flag, r)
            _status_list(list(latest.values()), json_out)
            return
        rollout, decision = backend.plan_rollouts.preview(key)
    if json_out:
        print_json({"rollout": rollout.to_dict(), "decision": decision_json(decision)})
        return
    _status_one(rollout, decision)
    _summary_lines(key, db)


def _summary_lines(key: str, db: str | None) -> None:
    """The at-a-glance summary the API and the dashboard show, in the same words."""
    from rich.markup import escape

    from phased.core.summary import describe

    with open_backend(db) as backend:
        summary = backend.rollout_report.summary_dict(key)
    say("at a glance:")
    for line in describe(summary):
        say("  " + escape(line))


def _status_list(found: list[Rollout], json_out: bool) -> None:
    if json_out:
        print_json([r.to_dict() for r in found])
        return
    if not found:
        say("no rollouts yet; start one with `phased plan apply PLAN --actor NAME`")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("flag", "rollout", "phase", "stage", "env", "since", "reason"):
        table.add_column(column)
    for r in found:
        since = r.state.stage_started_at or r.created_at
        stage = f"{r.stage.name} ({r.state.stage + 1}/{len(r.plan.stages)})"
        table.add_row(
            r.flag,
            f"#{r.id}",
            r.phase,
            stage,
            r.stage_environment,
            since.strftime("%Y-%m-%d %H:%M"),
            r.state.reason[:80],
        )
    console().print(table)


def _status_one(rollout: Rollout, decision: Decision) -> None:
    from phased.core.plans.audience import describe_audience

    stage = rollout.state.stage
    say(
        f"[bold]{rollout.flag}[/bold] rollout #{rollout.id} ({rollout.plan.mode.value}): "
        f"{rollout.phase} at stage {rollout.stage.name} ({stage + 1}/{len(rollout.plan.stages)})"
        f", {describe_audience(rollout.plan, stage)}"
    )
    say(f"  applied by {rollout.state.started_by}; last: {rollout.state.reason}")
    for waiting in decision.waiting_for:
        say(f"  [yellow]waiting[/]: {waiting.detail}")
    if decision.evaluations:
        console().print(checks_table(decision.evaluations))
    if rollout.active:
        say(f"now: {decision.kind.value} — {decision.reason}")


RolloutId = Annotated[
    int | None,
    typer.Option(
        "--rollout",
        min=1,
        help="An older rollout of the flag, by its number (#N in the report); default the latest.",
        show_default=False,
    ),
]


@rollout_app.command("history")
def history(
    key: Key,
    *,
    limit: Annotated[int, typer.Option("--limit", help="The newest N decisions.")] = 20,
    rollout: RolloutId = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """The rollout's recorded decisions, with every gate evaluation behind each."""
    with open_backend(db) as backend:
        entries = backend.plan_rollouts.rollout_history(key, limit=limit, rollout_id=rollout)
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    for e in entries:
        dry = " (dry run)" if e.dry_run else ""
        say(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<10} {e.kind}{dry} [{e.stage}] {e.reason}")


@rollout_app.command("report")
def report(
    key: Key,
    *,
    fmt: Annotated[str, typer.Option("--format", help="Output format: md.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    rollout: RolloutId = None,
    db: Db = None,
) -> None:
    """The rollout as a document, its Actual / Status columns filled from what was measured."""
    from phased.errors import ValidationError

    if fmt != "md":
        raise ValidationError(f"unknown format {fmt!r}; valid: md", field="format")
    with open_backend(db) as backend:
        text = backend.rollout_report.build_report(key, rollout_id=rollout)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"wrote {output}")


# -- phased rollout approve / check / advance / pause / resume / rollback ------------------


@rollout_app.command("approve")
def approve(
    key: Key,
    *,
    stage: Annotated[str, typer.Option("--stage", help="The stage approved.", show_default=False)],
    note: Annotated[str, typer.Option("--note", help="Shown in the report's sign-off table.")] = "",
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Approve a stage (needs one of its approval roles; never only by the applier)."""
    with open_backend(db) as backend:
        done = backend.approvals.approve(
            actor=actor_of(actor),
            flag=key,
            stage=stage,
            environment=env_guard(env),
            note=note,
        )
    _recorded(done, f"approved stage {stage} of {key}")


@rollout_app.command("check")
def check(
    key: Key,
    *,
    item: Annotated[str, typer.Option("--item", help="The checklist item's text.")],
    stage: Annotated[str | None, typer.Option("--stage", help="Default: the next stage.")] = None,
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Tick a checklist item of a stage still ahead."""
    with open_backend(db) as backend:
        done = backend.approvals.check(
            actor=actor_of(actor),
            flag=key,
            item=item,
            stage=stage,
            environment=env_guard(env),
        )
    _recorded(done, f"ticked {item!r} for stage {done.stage} of {key}")


def _recorded(done: Recorded, what: str) -> None:
    if not done.changed:
        say(f"{what}: already recorded, nothing written")
    else:
        say(what)
    if done.still_waiting:
        say(f"  stage {done.stage} still needs: " + "; ".join(done.still_waiting))
    else:
        say(f"  stage {done.stage} has everything it needs; the engine starts it at its next pass")


@rollout_app.command("advance")
def advance(
    key: Key,
    *,
    force: Annotated[
        bool, typer.Option("--force", help="Skip soak, samples and gates (admin; audited).")
    ] = False,
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Advance now if the stage is ready (with --force: even if it is not)."""
    with open_backend(db) as backend:
        applied = backend.rollout_controls.advance(
            actor=actor_of(actor), flag=key, force=force, environment=env_guard(env)
        )
    say(_applied_line(applied))


@rollout_app.command("pause")
def pause(
    key: Key,
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why (for the audit and alert).")] = "",
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Hold the rollout at its current audience until someone resumes it."""
    with open_backend(db) as backend:
        applied = backend.rollout_controls.pause_rollout(
            actor=actor_of(actor), flag=key, reason=reason, environment=env_guard(env)
        )
    say(f"{key}: already paused, nothing written" if applied is None else _applied_line(applied))


@rollout_app.command("resume")
def resume(key: Key, *, env: EnvGuard = None, actor: Actor = None, db: Db = None) -> None:
    """Let a paused rollout go on."""
    with open_backend(db) as backend:
        applied = backend.rollout_controls.resume_rollout(
            actor=actor_of(actor), flag=key, environment=env_guard(env)
        )
    say(f"{key}: not paused, nothing written" if applied is None else _applied_line(applied))


@rollout_app.command("rollback")
def rollback(
    key: Key,
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).", show_default=False)],
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Take the flag back to 0 % in the current stage's environment and end the rollout."""
    with open_backend(db) as backend:
        applied = backend.rollout_controls.rollback_rollout(
            actor=actor_of(actor), flag=key, reason=reason, environment=env_guard(env)
        )
    say(_applied_line(applied))


def register(root: typer.Typer) -> None:
    """The verbs are on the ``rollout`` and ``plan`` groups already (added at import)."""
    del root
