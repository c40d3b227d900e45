"""``phased triggers``: inbound alert endpoints that stop a rollout (docs/alert-triggers.md).

Against the database (``--db``), or through the server when ``PHASED_SERVER``
and ``PHASED_TOKEN`` are set (creating and revoking need an admin token). A
new trigger's token is printed once and never stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import Actor, Db, Json, actor_of, open_backend, print_json, usage_error

app = typer.Typer(
    help="Alert triggers: URLs an alerting system calls to pause, roll back or disable.",
    no_args_is_help=True,
)


@app.command("create")
def create(  # noqa: PLR0917  (typer maps parameters to options)
    flag: Annotated[str, typer.Argument(help="The flag, or '*' (the alert's flag label decides).")],
    name: Annotated[str, typer.Option("--name", help="The trigger's name.")] = "alertmanager",
    action: Annotated[
        str | None,
        typer.Option("--action", help="pause, rollback or disable (default: the plan's on_alert)."),
    ] = None,
    match: Annotated[
        list[str] | None,
        typer.Option("--match", help="LABEL=VALUE an alert must carry (repeat)."),
    ] = None,
    actor: Actor = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create a trigger and print its token and URL path (shown this once)."""
    labels: dict[str, str] = {}
    for item in match or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            usage_error(f"--match: give LABEL=VALUE (got {item!r})")
        labels[key] = value
    with open_backend(db) as backend:
        who = actor_of(actor)
        created = backend.alert_triggers.create_trigger(
            actor=who, flag=flag, name=name, action=action, match=labels
        )
    if as_json:
        print_json({**created.trigger.to_dict(), "token": created.token, "path": created.path})
        return
    typer.echo(f"trigger {name} on {flag}: POST <server>{created.path}")
    typer.echo(f"token (shown once; or send it as Authorization: Bearer): {created.token}")


@app.command("list")
def list_triggers(
    flag: Annotated[str | None, typer.Argument(help="Only this flag's triggers.")] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every trigger (never its token)."""
    with open_backend(db) as backend:
        found = backend.alert_triggers.list_triggers(flag)
    if as_json:
        print_json([t.to_dict() for t in found])
        return
    for t in found:
        state = "enabled" if t.enabled else "revoked"
        matching = ",".join(f"{k}={v}" for k, v in t.match.items()) or "any alert"
        typer.echo(f"{t.flag} {t.name}: {t.action or 'plan on_alert'}, {matching}, {state}")


@app.command("revoke")
def revoke(
    flag: Annotated[str, typer.Argument(help="The trigger's flag (or '*').")],
    name: Annotated[str, typer.Argument(help="The trigger's name.")],
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Disable a trigger: its URL stops working at once."""
    with open_backend(db) as backend:
        backend.alert_triggers.revoke_trigger(actor=actor_of(actor), flag=flag, name=name)
    typer.echo(f"revoked trigger {name} on {flag}")


def register(root: typer.Typer) -> None:
    """Add ``phased triggers`` to the root command."""
    root.add_typer(app, name="triggers")
