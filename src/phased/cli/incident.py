"""``phased incident``: open, list and resolve incidents; a P0 rolls its rollout back at once."""

from __future__ import annotations

from typing import Annotated

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
from phased.cli.rollouts import EnvGuard, env_guard

app = typer.Typer(
    help="Incidents against a flag: P0 rolls back at once, P1 pauses (the plan decides).",
    no_args_is_help=True,
)


@app.command("open")
def open_(
    key: Annotated[str, typer.Argument(help="The flag key.", show_default=False)],
    *,
    severity: Annotated[
        str, typer.Option("--severity", help="P0 (rolls back at once), P1, P2 or P3.")
    ],
    title: Annotated[str, typer.Option("--title", help="What is happening.")] = "",
    env: EnvGuard = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Open an incident; the plan decides what it does (P0: roll back, by default)."""
    with open_backend(db) as backend:
        opened = backend.incidents.open_incident(
            actor=actor_of(actor),
            flag=key,
            severity=severity,
            title=title,
            environment=env_guard(env),
        )
    inc = opened.incident
    say(f"opened {inc.key} ({inc.severity}) on {key}")
    if opened.decision is None:
        say("  no rollout of this flag is going; nothing else changed")
    else:
        say(f"  rollout: {opened.decision.kind.value} — {opened.decision.reason}")


@app.command("resolve")
def resolve(
    incident: Annotated[str, typer.Argument(help="The incident id, e.g. INC-3.")],
    *,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Mark an incident resolved (a rollout it paused stays paused until resumed)."""
    with open_backend(db) as backend:
        done = backend.incidents.resolve_incident(actor=actor_of(actor), incident=incident)
    say(f"{done.key} resolved by {done.resolved_by}")


@app.command("list")
def list_(
    key: Annotated[str | None, typer.Argument(help="Only this flag.")] = None,
    *,
    open_only: Annotated[bool, typer.Option("--open", help="Only unresolved ones.")] = False,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Incidents, newest first."""
    from rich.table import Table

    with open_backend(db) as backend:
        found = backend.incidents.list_incidents(flag=key, open_only=open_only)
    if json_out:
        print_json([i.to_dict() for i in found])
        return
    if not found:
        say("no incidents")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "flag", "severity", "title", "opened", "resolved", "effect"):
        table.add_column(column)
    for i in found:
        table.add_row(
            i.key,
            i.flag,
            i.severity,
            i.title,
            f"{i.opened_at:%Y-%m-%d %H:%M} {i.opened_by}",
            "" if i.resolved_at is None else f"{i.resolved_at:%Y-%m-%d %H:%M} {i.resolved_by}",
            i.action or "",
        )
    console().print(table)


def register(root: typer.Typer) -> None:
    """Add ``phased incident`` to the root app."""
    root.add_typer(app, name="incident")
