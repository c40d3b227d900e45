"""``phased hooks log FLAG``: every stage hook run of a rollout (docs/hooks.md).

It reads the record through the Backend, so it works on the database and
against a server (PHASED_SERVER + PHASED_TOKEN) alike.
"""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import Db, Json, open_backend, print_json

app = typer.Typer(help="Stage hooks: what ran, when, and how it ended.", no_args_is_help=True)


@app.command("log")
def log(
    flag: Annotated[str, typer.Argument(help="The flag whose (latest) rollout to show.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every hook run of the flag's latest rollout, newest first (output redacted, bounded)."""
    with open_backend(db) as backend:
        found = backend.hook_runs.list_runs(flag)
    runs = found.runs
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    if not runs:
        typer.echo(f"no hook runs for the rollout of {flag} (#{found.rollout_id})")
        return
    for r in runs:
        typer.echo(
            f"{r.started_at.isoformat(timespec='seconds')} {r.stage} {r.phase} {r.hook}: "
            f"{r.status} after {r.attempts} attempt(s) — {r.detail}"
        )


def register(root: typer.Typer) -> None:
    """Add ``phased hooks`` to the root command."""
    root.add_typer(app, name="hooks")
