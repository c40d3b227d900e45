"""``phased segment``: named, reusable audiences."""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    ExpectVersion,
    Json,
    actor_of,
    changed_line,
    console,
    open_backend,
    print_json,
    say,
)

app = typer.Typer(help="Segments: named audiences that flag rules refer to.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The segment name, e.g. staff.", show_default=False)]


def _where_text(where: object) -> str:
    import json

    return where if isinstance(where, str) else json.dumps(where)


@app.command("create")
def create(
    name: Name,
    where: Annotated[
        list[str],
        typer.Option(
            "--where",
            help="ATTRIBUTE OPERATOR VALUE, e.g. 'role in [admin, pm]' (repeat: all must hold).",
            show_default=False,
        ),
    ],
    description: Annotated[str, typer.Option(help="Who this is.")] = "",
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Create a segment.

    Example: phased segment create staff --where 'role in [admin, pm]' --actor admin
    """
    who = actor_of(actor)
    with open_backend(db) as backend:
        result = backend.segments.create_segment(
            actor=who, key=name, where=where, description=description
        )
    say(changed_line(result, f"created segment {name}"))


@app.command("list")
def list_(db: Db = None, json_out: Json = False) -> None:
    """List segments.

    Example: phased segment list --json
    """
    from rich.table import Table

    from phased.service.segments import segment_dict

    with open_backend(db) as backend:
        rows = backend.segments.list_segments()
    if json_out:
        print_json([segment_dict(s) for s in rows])
        return
    if not rows:
        say("no segments yet: phased segment create NAME --where 'role in [admin]' --actor NAME")
        return
    table = Table("segment", "where", "description", box=None, pad_edge=False)
    for s in rows:
        table.add_row(s.key, _where_text(segment_dict(s)["where"]), s.description)
    console().print(table)


@app.command("show")
def show(name: Name, db: Db = None, json_out: Json = False) -> None:
    """Show a segment and the rules that use it.

    Example: phased segment show staff
    """
    from phased.service.segments import segment_dict

    with open_backend(db) as backend:
        segment, used = backend.segments.get_segment(name)
    data = segment_dict(segment)
    if json_out:
        print_json({**data, "used_by": used})
        return
    say(f"[bold]{segment.key}[/bold]: {_where_text(data['where'])}")
    if segment.description:
        say(f"  {segment.description}")
    say(f"  used by: {', '.join(used) if used else 'no rule'}")


@app.command("delete")
def delete(
    name: Name, actor: Actor = None, expect_version: ExpectVersion = None, db: Db = None
) -> None:
    """Delete a segment that no rule uses.

    Example: phased segment delete staff --actor admin
    """
    who = actor_of(actor)
    with open_backend(db) as backend:
        result = backend.segments.delete_segment(
            actor=who, key=name, expected_version=expect_version
        )
    say(changed_line(result, f"deleted segment {name}"))


def register(root: typer.Typer) -> None:
    """Add ``phased segment`` to the root app."""
    root.add_typer(app, name="segment")
