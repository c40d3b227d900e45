"""``phased simulate PLAN --traffic MODEL``: the real engine against synthetic traffic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from phased.errors import PhasedError


def _clock(minute: float) -> str:
    whole = int(minute)
    days, rest = divmod(whole, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours:02d}:{minutes:02d}" if days else f"{hours:02d}:{minutes:02d}"


def simulate(  # noqa: PLR0917  (typer maps parameters to options)
    plan: Annotated[Path, typer.Argument(help="The plan file.", exists=True, dir_okay=False)],
    traffic: Annotated[
        Path, typer.Option("--traffic", help="The traffic model file.", exists=True, dir_okay=False)
    ],
    seed: Annotated[int | None, typer.Option(help="Override the model's seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    no_auto_approve: Annotated[
        bool,
        typer.Option("--no-auto-approve", help="Leave approvals and checklists pending."),
    ] = False,
    flags: Annotated[
        Path | None,
        typer.Option(help="Flags file defining the flag and the segments the plan uses."),
    ] = None,
) -> None:
    """Run PLAN on a virtual clock against the traffic MODEL, with the real engine."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from phased.core.flagfile import parse_flagset
    from phased.core.plans import parse_plan
    from phased.simulate import parse_traffic
    from phased.simulate import simulate as run

    err = Console(stderr=True)
    try:
        parsed = parse_plan(plan.read_text(encoding="utf-8"), str(plan))
        model = parse_traffic(traffic.read_text(encoding="utf-8"), str(traffic))
        flagset = parse_flagset(flags.read_text(encoding="utf-8"), str(flags)) if flags else None
        if as_json:
            result = run(
                parsed, model, seed=seed, auto_approve=not no_auto_approve, flagset=flagset
            )
        else:
            with Progress(
                TextColumn("[bold]simulating[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} min"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task(parsed.flag, total=model.duration_minutes)
                result = run(
                    parsed,
                    model,
                    seed=seed,
                    auto_approve=not no_auto_approve,
                    flagset=flagset,
                    on_minute=lambda m: progress.update(task, completed=m),
                )
    except PhasedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if as_json:
        for event in result.events:
            typer.echo(json.dumps(event.to_dict(), ensure_ascii=False))
        typer.echo(json.dumps(result.summary(), ensure_ascii=False))
        return
    out = Console()
    table = Table(title=f"rollout of {parsed.flag}: timeline", show_lines=False)
    for column in ("time", "stage", "%", "event", "reason"):
        table.add_column(column, overflow="fold")
    styles = {
        "rollback": "bold red",
        "pause": "yellow",
        "advance": "green",
        "complete": "bold green",
    }
    for event in result.events:
        if event.event == "gate" and not any(v in event.reason for v in (" fail — ", " error — ")):
            continue  # the human view shows failures; --json has every verdict change
        table.add_row(
            _clock(event.minute),
            event.stage,
            f"{event.percent:g}",
            event.event,
            event.reason,
            style=styles.get(event.event),
        )
    out.print(table)
    out.print(
        f"[bold]{result.outcome}[/] at {_clock(result.minute)} (stage {result.stage}); "
        f"candidate {result.candidate_requests:,} requests, {result.candidate_errors:,} errors; "
        f"control {result.control_requests:,} requests"
    )


def register(root: typer.Typer) -> None:
    """Add ``phased simulate`` to the root command."""
    root.command("simulate")(simulate)
