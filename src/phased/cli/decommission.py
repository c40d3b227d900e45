"""``phased flag retire|refs|stale``: the last steps of a migration (seeds 003 and 004).

Thin commands over :mod:`phased.service.retire` and :mod:`phased.migrate.refs`,
added to the ``phased flag`` group. ``retire`` and ``stale`` go through the
Backend (a database with ``--db``, or a server with PHASED_SERVER); ``refs``
only reads files, and ``retire --code`` scans them here, on the client, and
sends the count: the server does not have the caller's source tree.
"""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import Actor, Db, Json, actor_of, open_backend, print_json, say
from phased.core.retire import MAX_DAYS

Key = Annotated[str, typer.Argument(help="The flag key, e.g. awf_bundle.", show_default=False)]
Days = Annotated[
    int, typer.Option("--days", help="How long the flag must have been done.", min=0, max=MAX_DAYS)
]


def _refs(key: str, paths: list[str], env_var: str | None) -> list[object]:
    from phased.migrate.refs import find_refs

    return list(find_refs(key, paths, env_var=env_var))


def retire(
    key: Key,
    *,
    days: Days = 7,
    value: Annotated[
        str | None,
        typer.Option("--value", help="Multivariate flags: the variant that is the new behaviour."),
    ] = None,
    code: Annotated[
        list[str] | None,
        typer.Option(
            "--code",
            help="Source paths that must no longer read the flag (repeatable); scanned on this "
            "machine, also against a server.",
        ),
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Only say which prerequisites hold (exit 1 if any not).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Retire although prerequisites fail (audited as forced)."),
    ] = False,
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Check the prerequisites; then make the new value the permanent default and archive the flag.

    Prerequisites: 100 % in every environment for --days, the latest rollout
    completed, the latest reported golden runs passing, no old-path outcome
    for --days, and no code reference under --code.
    """
    with open_backend(db) as backend:
        flag = backend.flags.get_flag(key).flag
        refs = None if not code else len(_refs(key, code, flag.env_var))
        if check_only:
            found = backend.retire.check(key, days=days, value=value, code_refs=refs)
            if json_out:
                print_json([p.to_dict() for p in found])
            else:
                for p in found:
                    typer.echo(f"{'✓' if p.holds else '✗'} {p.name}: {p.detail}")
            if not all(p.holds for p in found):
                raise typer.Exit(1)
            return
        done = backend.retire.retire(
            actor=actor_of(actor),
            key=key,
            days=days,
            value=value,
            code_refs=refs,
            force=force,
        )
    if json_out:
        print_json(done.to_dict())
        return
    for p in done.prerequisites:
        typer.echo(f"{'✓' if p.holds else '✗'} {p.name}: {p.detail}")
    forced = " (forced)" if done.forced else ""
    say(f"retired {key}{forced}: {done.value!r} is the permanent default; the flag is archived")


def refs(
    key: Key,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files or directories (default: .).")
    ] = None,
    *,
    env_var: Annotated[
        str | None, typer.Option("--env-var", help="Also find this environment variable.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Where the code still reads the flag: file:line, for the removal step. Exit 1 if any."""
    from phased.migrate.refs import find_refs

    found = find_refs(key, paths or ["."], env_var=env_var)
    if json_out:
        print_json([r.to_dict() for r in found])
    else:
        for r in found:
            typer.echo(f"{r.path}:{r.line}: {r.text}")
        typer.echo(f"{len(found)} reference(s) to {key}", err=True)
    if found:
        raise typer.Exit(1)


def stale(
    *,
    days: Annotated[
        int, typer.Option("--days", help="Done or unused for this long.", min=1, max=MAX_DAYS)
    ] = 30,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Flags fully rolled out, or without any outcome, and unchanged for --days."""
    with open_backend(db) as backend:
        found = backend.retire.stale(days=days)
    if json_out:
        print_json([s.to_dict() for s in found])
        return
    if not found:
        say(f"no stale flag (nothing done or unused for {days} days)")
        return
    for s in found:
        typer.echo(f"{s.key}: {s.reason}")


def register(root: typer.Typer) -> None:
    """Add ``retire``, ``refs`` and ``stale`` to ``phased flag``."""
    del root
    from phased.cli.flag import app as flag_app

    flag_app.command("retire")(retire)
    flag_app.command("refs")(refs)
    flag_app.command("stale")(stale)
