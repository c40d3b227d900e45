"""``phased rollout set``: a flag's rollout percentage (plan runs add verbs: cli/rollouts.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    Env,
    ExpectVersion,
    Force,
    actor_of,
    changed_line,
    env_of,
    open_backend,
    say,
)

app = typer.Typer(
    help="Rollouts: set a percentage, or follow a plan (status, approve, advance, roll back).",
    no_args_is_help=True,
)


@app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="The flag key.", show_default=False)],
    *,
    percent_text: Annotated[
        str,
        typer.Option(
            "--percent", help="0..100, two decimals at most.", show_default=False, metavar="FLOAT"
        ),
    ],
    env: Env = None,
    actor: Actor = None,
    expect_version: ExpectVersion = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Set the rollout percentage in one environment (sticky; raising never removes anyone).

    Example: phased rollout set awf_bundle --percent 25 --env prod --actor admin
    """
    percent = _percent(percent_text)
    who, where = actor_of(actor), env_of(env)
    with open_backend(db) as backend:
        result = backend.rollouts.set_rollout(
            actor=who,
            key=key,
            environment=where,
            percent=percent,
            expected_version=expect_version,
            force=force,
        )
    if not result.changed:
        say(f"{key} in {where}: rollout already {percent:g}%, nothing written")
        return
    before = result.entries[0].details["before"] if result.entries else None
    old = (before or {}).get("rollout", 0)
    say(changed_line(result, f"{key} in {where}: rollout {old:g}% → {percent:g}%"))


def _percent(text: str) -> float:
    """``--percent`` as a number; anything else is a malformed option: one line, exit 2."""
    import math

    from phased.cli.main import fail

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        fail(f"percent: {text!r} is not a number; give 0..100, e.g. --percent 25", code=2)
    return value


def register(root: typer.Typer) -> None:
    """Add ``phased rollout`` to the root app."""
    root.add_typer(app, name="rollout")
