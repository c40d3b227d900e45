"""``phased member``: the people who approve stages and the roles they hold."""

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

app = typer.Typer(
    help="People and their roles (admin, pm, developer, viewer).", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="The person's name (their --actor).", show_default=False)]
Roles = Annotated[
    list[str] | None,
    typer.Option("--role", help="A role: admin, pm, developer or viewer (repeat for several)."),
]


@app.command("add")
def add(name: Name, *, role: Roles = None, actor: Actor = None, db: Db = None) -> None:
    """Add a person, or give them more roles (only admins, once an admin exists).

    Example: phased member add alice --role pm --actor admin
    """
    with open_backend(db) as backend:
        member = backend.members.add_member(actor=actor_of(actor), name=name, roles=role or [])
    say(f"{member.name}: {', '.join(member.roles)}")


@app.command("remove")
def remove(name: Name, *, role: Roles = None, actor: Actor = None, db: Db = None) -> None:
    """Take roles from a person, or remove them when no --role is given (admins only)."""
    with open_backend(db) as backend:
        left = backend.members.remove_member(actor=actor_of(actor), name=name, roles=role or ())
    say(f"{name}: removed" if left is None else f"{name}: {', '.join(left.roles)}")


@app.command("list")
def list_(*, db: Db = None, json_out: Json = False) -> None:
    """Everyone and their roles."""
    from rich.table import Table

    with open_backend(db) as backend:
        found = backend.members.list_members()
    if json_out:
        print_json([m.to_dict() for m in found])
        return
    if not found:
        say("no members yet; add one with `phased member add NAME --role admin --actor NAME`")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("name", "roles", "added by", "since"):
        table.add_column(column)
    for m in found:
        table.add_row(m.name, ", ".join(m.roles), m.created_by, f"{m.created_at:%Y-%m-%d}")
    console().print(table)


def register(root: typer.Typer) -> None:
    """Add ``phased member`` to the root app."""
    root.add_typer(app, name="member")
