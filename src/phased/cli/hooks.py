"""``phased hooks log FLAG``: every stage hook run of a rollout (docs/hooks.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import Db, Json, local_store, print_json

app = typer.Typer(help="Stage hooks: what ran, when, and how it ended.", no_args_is_help=True)


@app.command("log")
def log(
    flag: Annotated[str, typer.Argument(help="The flag whose (latest) rollout to show.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every hook run of the flag's latest rollout, newest first (output redacted, bounded)."""
    from phased.service import hook_runs
    from phased.service import rollout_records as records

    with local_store(db, "hooks log") as store, store.read() as conn:
        rollout = records.require(conn, flag, going=False)
        runs = hook_runs.history(conn, rollout.id)
    if as_json:
        print_json([r.to_dict() for r in runs])
        return
    if not runs:
        typer.echo(f"no hook runs for the rollout of {flag} (#{rollout.id})")
        return
    for r in runs:
        typer.echo(
            f"{r.started_at.isoformat(timespec='seconds')} {r.stage} {r.phase} {r.hook}: "
            f"{r.status} after {r.attempts} attempt(s) — {r.detail}"
        )


def register(root: typer.Typer) -> None:
    """Add ``phased hooks`` to the root command."""
    root.add_typer(app, name="hooks")
