"""``phased override``: pin a value for one user, session or attribute value."""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    Env,
    EnvFilter,
    Force,
    Json,
    actor_of,
    changed_line,
    console,
    env_of,
    open_backend,
    print_json,
    say,
    show_value,
)

app = typer.Typer(
    help="Overrides: pinned values per user, session or attribute.", no_args_is_help=True
)

Key = Annotated[str, typer.Argument(help="The flag key.", show_default=False)]
User = Annotated[
    str | None, typer.Option("--user", help="Pin for this user id.", show_default=False)
]
Session = Annotated[
    str | None, typer.Option("--session", help="Pin for this session id.", show_default=False)
]
Attr = Annotated[
    str | None,
    typer.Option("--attr", help="Pin for an attribute value, KEY=VALUE.", show_default=False),
]


def _label(user: str | None, session: str | None, attr: str | None) -> str:
    from phased.service.overrides import target

    attribute, value = target(user, session, attr)
    return f"{attribute}={value}"


@app.command("set")
def set_(
    key: Key,
    *,
    user: User = None,
    session: Session = None,
    attr: Attr = None,
    enable: Annotated[bool, typer.Option("--enable", help="Serve on.")] = False,
    disable: Annotated[bool, typer.Option("--disable", help="Serve off.")] = False,
    variant: Annotated[
        str | None, typer.Option("--variant", help="Serve this variant.", show_default=False)
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires", help="7d, 12h, 1h30m, 90s or an ISO 8601 time.", show_default=False
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="Why (kept with the pin).")] = "",
    env: Env = None,
    actor: Actor = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Pin a value (replacing an existing pin for the same target).

    Example: phased override set awf_bundle --user user-123 --enable --env prod --actor admin
    """
    from phased.errors import ValidationError

    chosen = [v for v in ("on" if enable else None, "off" if disable else None, variant) if v]
    if len(chosen) != 1:
        raise ValidationError(
            "give exactly one of --enable, --disable or --variant V", field="serve"
        )
    who, where = actor_of(actor), env_of(env)
    label = _label(user, session, attr)
    with open_backend(db) as backend:
        result = backend.overrides.set_override(
            actor=who,
            key=key,
            environment=where,
            serve=chosen[0],
            user=user,
            session=session,
            attr=attr,
            expires=expires,
            note=note,
            force=force,
        )
        views = backend.overrides.list_overrides(key=key, environment=where)
    pin = next(v.override for v in views if v.override.label == label)
    until = f" until {pin.expires.isoformat()}" if pin.expires else ""
    say(changed_line(result, f"{key} in {where}: {label} → {show_value(pin.serve)}{until}"))


@app.command("list")
def list_(
    key: Annotated[str | None, typer.Argument(help="Only this flag.", show_default=False)] = None,
    env: EnvFilter = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """List overrides; expired ones are shown (and no longer match).

    Example: phased override list awf_bundle --env prod
    """
    from rich.table import Table

    with open_backend(db) as backend:
        if env is not None:
            from phased.service.base import check_environment

            check_environment(backend, env)
        views = backend.overrides.list_overrides(key=key, environment=env)
    if json_out:
        print_json([v.to_dict() for v in views])
        return
    if not views:
        say("no overrides")
        return
    table = Table("flag", "env", "target", "serves", "expires", "note", box=None, pad_edge=False)
    for v in views:
        o = v.override
        expiry = "-" if o.expires is None else f"{o.expires:%Y-%m-%d %H:%M}Z"
        if v.expired:
            expiry += " [red](expired)[/red]"
        table.add_row(v.flag, v.environment, o.label, show_value(o.serve), expiry, o.note)
    console().print(table)


@app.command("clear")
def clear(
    key: Key,
    *,
    user: User = None,
    session: Session = None,
    attr: Attr = None,
    env: Env = None,
    actor: Actor = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Remove one pin.

    Example: phased override clear awf_bundle --session session-456 --env prod --actor admin
    """
    who, where = actor_of(actor), env_of(env)
    label = _label(user, session, attr)
    with open_backend(db) as backend:
        result = backend.overrides.clear_override(
            actor=who,
            key=key,
            environment=where,
            user=user,
            session=session,
            attr=attr,
            force=force,
        )
    say(changed_line(result, f"{key} in {where}: cleared {label}"))


@app.command("clear-all")
def clear_all(
    key: Annotated[str | None, typer.Argument(help="Only this flag.", show_default=False)] = None,
    env: Env = None,
    actor: Actor = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Remove every pin of one flag, or of all flags, in one environment.

    Example: phased override clear-all --env prod --actor admin
    """
    who, where = actor_of(actor), env_of(env)
    with open_backend(db) as backend:
        result = backend.overrides.clear_all_overrides(
            actor=who, environment=where, key=key, force=force
        )
    flags = ", ".join(c.key for c in result.changes) or "none had any"
    say(changed_line(result, f"cleared every override in {where} ({flags})"))


def register(root: typer.Typer) -> None:
    """Add ``phased override`` to the root app."""
    root.add_typer(app, name="override")
