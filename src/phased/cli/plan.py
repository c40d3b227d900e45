"""``phased plan``: the plan file's schema, validation and rendering as a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from phased.errors import PhasedError

app = typer.Typer(
    help="Rollout plans: schema, validate, render, apply (start a rollout).", no_args_is_help=True
)

PlanFile = Annotated[Path, typer.Argument(help="The plan file.", exists=True, dir_okay=False)]


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a plan file."""
    from phased.core.plans import plan_schema

    typer.echo(json.dumps(plan_schema(), indent=2, ensure_ascii=False))


@app.command("validate")
def validate(
    file: PlanFile,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="A role people can hold (repeat); default: the built-ins."),
    ] = None,
    allow_shrink: Annotated[
        bool,
        typer.Option("--allow-shrink", help="Preview as `plan apply --allow-shrink` would."),
    ] = False,
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources", help="The metric sources file (PHASED_SOURCES_CONFIG; sources.yaml)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Preview against this store (default: PHASED_DATABASE_URL or PHASED_SERVER, "
            "or ./phased.db when it exists).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a plan file; errors name file, line and field.

    With a store at hand, also print what the plan's first stage in each
    environment does to today's audience (who keeps, gains and loses the
    flag), and fail (exit 1) where `plan apply` would refuse it. Metric sources
    must be defined in the sources file, and hook commands must exist on this
    machine (the engine runs them).
    """
    from phased.cli.common import settings
    from phased.cli.sources import load
    from phased.core.plans import DEFAULT_ROLES, parse_plan
    from phased.engine.hook_checks import check_hook_commands

    try:
        text = file.read_text(encoding="utf-8")
        known = load(sources).names
        plan = parse_plan(
            text,
            str(file),
            roles=role or DEFAULT_ROLES,
            environments=settings().environments,
            sources=known,
        )
        check_hook_commands(plan, text, str(file))
    except PhasedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    stages = " → ".join(s.name for s in plan.stages)
    typer.echo(f"ok: {file}: flag {plan.flag}, {len(plan.stages)} stages ({stages})")
    _preview(file, db, allow_shrink)


def _preview(file: Path, db: str | None, allow_shrink: bool) -> None:
    """Print the plan's audience preview against the store, when there is one."""
    from phased.cli.common import open_backend, remote, settings
    from phased.errors import NotFoundError

    configured = "database_url" in settings().model_fields_set
    if db is None and remote() is None and not configured and not Path("phased.db").exists():
        return  # no store to compare with: the file alone is valid
    try:
        with open_backend(db) as backend:
            previews = backend.plan_rollouts.plan_preview(
                text=file.read_text(encoding="utf-8"),
                path=str(file),
                allow_shrink=allow_shrink,
            )
    except NotFoundError as exc:
        typer.echo(f"preview: {exc.message}", err=True)
        return
    except PhasedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for preview in previews:
        for line in preview.lines():
            typer.echo(line)
    shrinks = [p for p in previews if p.change.shrinks]
    from phased.core.plans import parse_plan

    plan = parse_plan(file.read_text(encoding="utf-8"), str(file))
    if shrinks and not (allow_shrink or plan.start.allow_shrink):
        first = shrinks[0]
        typer.echo(
            f"error: {file}: start.allow_shrink: stage {first.stage} would take {plan.flag} "
            f"away from {', '.join(first.change.loses)} in {first.change.environment}; add "
            "'start: {allow_shrink: true}' to the plan or pass --allow-shrink",
            err=True,
        )
        raise typer.Exit(1)


@app.command("render")
def render(
    file: PlanFile,
    fmt: Annotated[str, typer.Option("--format", help="Output format: md.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
) -> None:
    """Write the plan as a rollout document a PM can sign."""
    from phased.core.plans import parse_plan
    from phased.core.plans.render import render_markdown

    if fmt != "md":
        typer.echo(f"--format: unknown format {fmt!r}; valid: md", err=True)
        raise typer.Exit(2)
    try:
        plan = parse_plan(file.read_text(encoding="utf-8"), str(file))
    except PhasedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    text = render_markdown(plan)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


def register(root: typer.Typer) -> None:
    """Add ``phased plan`` to the root command."""
    root.add_typer(app, name="plan")
