"""``phased compare mismatches KEY`` and ``phased compare resolve ID``: old/new discrepancies.

Samples come from ``client.compare`` (``docs/migrations.md``). Resolving one as
"new behaviour is correct" (seed 004's discrepancy resolution) is audited and
takes it out of the stage's ``mismatch_rate``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from phased.cli.common import Actor, Db, Json, actor_of, open_backend, print_json, say

app = typer.Typer(
    help="Old and new side by side: mismatch samples and their resolution (seed 004).",
    no_args_is_help=True,
)


def _short(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command("mismatches")
def mismatches(
    key: Annotated[str, typer.Argument(help="The flag key.")],
    *,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="Also the ones resolved as correct.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1)] = 20,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """The kept mismatch samples of a flag, newest first: context, both outputs, the diff."""
    with open_backend(db) as backend:
        found = backend.compare.list_mismatches(key, include_resolved=include_resolved, limit=limit)
    if json_out:
        print_json([m.to_dict() for m in found])
        return
    if not found:
        say(f"no {'' if include_resolved else 'open '}mismatch kept for {key}")
        return
    for m in found:
        state = f" resolved by {m.resolved_by}: {m.note}" if m.resolved else ""
        typer.echo(f"#{m.id} {m.at:%Y-%m-%d %H:%M} stage {m.stage or '-'} ({m.mode}){state}")
        typer.echo(f"  context: {_short(m.context)}")
        typer.echo(f"  old: {_short(m.old)}")
        typer.echo(f"  new: {_short(m.new)}")
        for line in m.diff[:10]:
            typer.echo(f"    {line}")


@app.command("resolve")
def resolve(
    mismatch_id: Annotated[int, typer.Argument(help="The mismatch's number (#N in the list).")],
    *,
    note: Annotated[
        str, typer.Option("--note", help="Why the new behaviour is correct (kept and audited).")
    ],
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Mark a mismatch "new behaviour is correct": it stops counting in mismatch_rate."""
    with open_backend(db) as backend:
        done = backend.compare.resolve_mismatch(
            actor=actor_of(actor), mismatch_id=mismatch_id, note=note
        )
    if json_out:
        print_json(done.to_dict())
        return
    say(f"mismatch #{done.id} of {done.flag}: new behaviour is correct ({done.resolved_by})")


def register(root: typer.Typer) -> None:
    """Add ``phased compare`` to the root app."""
    root.add_typer(app, name="compare")
