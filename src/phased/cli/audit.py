"""``phased audit``: the hash-chained record of every change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from phased.cli.common import Db, Json, console, open_backend, print_json

app = typer.Typer(
    help="The audit trail: recent changes, verification, export.", no_args_is_help=True
)

Since = Annotated[
    str | None,
    typer.Option(
        "--since", help="From this time (ISO 8601) or age (7d, 1h30m, 90s).", show_default=False
    ),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="Before this time (ISO 8601) or age.", show_default=False),
]


@app.command("recent")
def recent(
    *,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many entries.")] = 20,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only this actor.", show_default=False)
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action",
            help="Action, or a prefix ending in '.': flag. rollout. override.",
            show_default=False,
        ),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option("--entity", help="flag:KEY, segment:NAME, or a bare KEY.", show_default=False),
    ] = None,
    since: Since = None,
    until: Until = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Newest entries first.

    Example: phased audit recent --action rollout. --limit 10
    """
    from rich.table import Table

    from phased.service.times import parse_time

    with open_backend(db) as backend:
        now = backend.clock()
        entries = backend.audit.recent(
            limit=limit,
            actor=actor,
            action=action,
            entity=entity,
            since=parse_time(since, now, "since", ago=True),
            until=parse_time(until, now, "until", ago=True),
        )
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    if not entries:
        console().print("no audit entries match")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("entity", no_wrap=True)
    table.add_column("change", overflow="fold", ratio=1)
    for e in entries:
        table.add_row(
            str(e.id), f"{e.ts:%m-%d %H:%M:%S}", e.actor, e.action, e.entity, _brief(e.details)
        )
    console().print(table)


def _brief(details: dict[str, Any]) -> str:
    """One short phrase per changed field: ``prod: rollout 5→25, +user=u1``."""
    env = details.get("environment")
    prefix = f"{env}: " if env else ""
    if details.get("op") in ("create", "delete"):
        return f"{prefix}{details['op']}"
    before, after = details.get("before") or {}, details.get("after") or {}
    parts: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "overrides":
            pins_old = {f"{o['attribute']}={o['value']}": o for o in old or []}
            pins_new = {f"{o['attribute']}={o['value']}": o for o in new or []}
            parts += [f"+{k}" for k in pins_new if k not in pins_old]
            parts += [f"-{k}" for k in pins_old if k not in pins_new]
            parts += [f"~{k}" for k in pins_new if k in pins_old and pins_new[k] != pins_old[k]]
        elif isinstance(old, list | dict) or isinstance(new, list | dict):
            parts.append(f"{key} changed")
        else:
            parts.append(f"{key} {_short(old)}→{_short(new)}")
    return prefix + ", ".join(parts)


def _short(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@app.command("verify")
def verify(db: Db = None, json_out: Json = False) -> None:
    """Recompute the hash chain; name the first entry that does not match (exit 1).

    Example: phased audit verify
    """
    from phased.errors import AuditChainError

    with open_backend(db) as backend:
        report = backend.audit.verify()
    if json_out:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "head": report.head,
                "first_bad": report.first_bad,
                "problem": report.problem or None,
            }
        )
        if not report.ok:
            raise typer.Exit(1)
        return
    if not report.ok:
        raise AuditChainError(report.summary(), field=f"audit_log[{report.first_bad}]")
    console().print(report.summary())


@app.command("export")
def export(
    since: Since = None,
    until: Until = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    db: Db = None,
) -> None:
    """Every entry as JSON lines, oldest first (hashes included, so a copy can be verified).

    Example: phased audit export --since 30d > audit.jsonl
    """
    import sys

    from phased.service.times import parse_time

    with open_backend(db) as backend:
        now = backend.clock()
        start = parse_time(since, now, "since", ago=True)
        end = parse_time(until, now, "until", ago=True)
        if output is None:
            backend.audit.export(sys.stdout, since=start, until=end)
        else:
            with output.open("w", encoding="utf-8") as fh:
                n = backend.audit.export(fh, since=start, until=end)
            typer.echo(f"wrote {n} entries to {output}", err=True)


def register(root: typer.Typer) -> None:
    """Add ``phased audit`` to the root app."""
    root.add_typer(app, name="audit")
