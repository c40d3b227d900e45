"""``phased flags``: the whole flag set as a file (export) and back (declarative apply)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    EnvFilter,
    Force,
    Json,
    actor_of,
    console,
    open_backend,
    print_json,
)

app = typer.Typer(
    help="The flags file: export the store, apply a file (GitOps).", no_args_is_help=True
)


@app.command("export")
def export(
    env: EnvFilter = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    db: Db = None,
) -> None:
    """Write every segment and flag as a flags file (only one environment's state with --env).

    Example: phased flags export > flags.yaml
    """
    from phased.core.flagfile import dump_flagset

    with open_backend(db) as backend:
        if env is not None:
            from phased.service.base import check_environment

            check_environment(backend, env)
        text = dump_flagset(backend.flags.load_flagset(), environment=env)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@app.command("apply")
def apply_(
    file: Annotated[Path, typer.Argument(help="The flags file.", show_default=False)],
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff, write nothing.")
    ] = False,
    env: Annotated[
        str | None,
        typer.Option("--env", help="Apply only this environment's states.", show_default=False),
    ] = None,
    actor: Actor = None,
    force: Force = False,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Make the store match FILE: print the diff, apply it in one transaction, audit each change.

    Flags and segments missing from the file are deleted. Example:
    phased flags apply flags.yaml --dry-run ; phased flags apply flags.yaml --actor ci
    """
    from phased.core.flagfile import parse_flagset
    from phased.errors import ValidationError

    if not file.is_file():
        raise ValidationError(f"no such file {str(file)!r}", field="file")
    wanted = parse_flagset(file.read_text(encoding="utf-8"), str(file))
    who = None if dry_run else actor_of(actor)
    with open_backend(db) as backend:
        outcome = backend.apply.apply(
            actor=who,
            wanted=wanted,
            environment=env,
            source=str(file),
            dry_run=dry_run,
            force=force,
        )
        revision = backend.revision()
    if json_out:
        print_json(
            {
                "applied": outcome.applied,
                "revision": revision,
                "changes": [
                    {
                        "entity": c.entity,
                        "op": c.op,
                        "lines": c.lines(),
                        "before": c.before,
                        "after": c.after,
                    }
                    for c in outcome.changes
                ],
                "audience": [a.to_dict() for a in outcome.audience],
            }
        )
        return
    out = console()
    colours = {"+": "green", "-": "red", "~": "yellow"}
    for line in outcome.lines():
        out.print(f"[{colours[line[0]]}]{line}[/]", markup=True, highlight=False)
    from rich.markup import escape

    for change in outcome.audience:
        # Who gains and who loses (the full preview, with keeps and shares, is in --json).
        gains, loses = change.lines()[1:3]
        for line, shown in ((gains, change.gains), (loses, change.loses)):
            if shown:
                out.print(f"  audience: {escape(line)}", highlight=False)
    # Count what is listed: one line per changed field (a created or deleted
    # entity is one line).
    n = len(outcome.lines())
    if not n:
        out.print("no changes: the store already matches the file")
    elif dry_run:
        out.print(f"dry run: {n} change{'s' * (n != 1)} not applied")
    else:
        out.print(f"applied {n} change{'s' * (n != 1)} [dim](revision {revision})[/dim]")


def register(root: typer.Typer) -> None:
    """Add ``phased flags`` to the root app."""
    root.add_typer(app, name="flags")
