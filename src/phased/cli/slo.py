"""``phased slo status``: every gate and trigger of going rollouts, as seed 003's SLO view."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phased.cli.common import Db, Json, console, open_backend, print_json, say

app = typer.Typer(help="SLOs: the measured gates of running rollouts.", no_args_is_help=True)


@app.command("status")
def status(
    key: Annotated[
        str | None, typer.Argument(help="A flag key; every going rollout if omitted.")
    ] = None,
    *,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Each gate: value, threshold, verdict, and a suggested action for a breach (seed 003)."""
    from phased.cli.rollouts import checks_table
    from phased.obs.slo import suggested_actions

    with open_backend(db) as backend:
        flags = (
            [key]
            if key
            else [r.flag for r in backend.plan_rollouts.list_rollouts(active_only=True)]
        )
        previews = [backend.plan_rollouts.preview(flag) for flag in flags]
    if json_out:
        out: list[dict[str, Any]] = []
        for rollout, decision in previews:
            for r in decision.evaluations:
                breached = r.verdict.value == "fail"
                out.append(
                    {
                        "flag": rollout.flag,
                        "stage": rollout.stage.name,
                        "kind": r.kind,
                        "check": r.label,
                        "metric": r.metric,
                        "value": r.value,
                        "threshold": r.threshold,
                        "verdict": r.verdict.value,
                        "suggested_actions": list(suggested_actions(r.metric)) if breached else [],
                    }
                )
        print_json(out)
        return
    if not previews:
        say("no rollout is going; nothing is measured")
        return
    for rollout, decision in previews:
        say(f"[bold]{rollout.flag}[/bold] at stage {rollout.stage.name} ({rollout.phase})")
        if decision.evaluations:
            console().print(checks_table(decision.evaluations, suggest=True))
        else:
            say("  no checks evaluated")


def register(root: typer.Typer) -> None:
    """Add ``phased slo`` to the root app."""
    root.add_typer(app, name="slo")
