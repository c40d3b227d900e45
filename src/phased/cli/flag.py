"""``phased flag``: create, list, show, enable, disable, set-default, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    Env,
    EnvFilter,
    ExpectVersion,
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

if TYPE_CHECKING:
    from rich.table import Table

    from phased.core.flags import Flag, FlagState
    from phased.service.flags import StoredFlag

app = typer.Typer(help="Flags: create, inspect, switch per environment.", no_args_is_help=True)

Key = Annotated[str, typer.Argument(help="The flag key, e.g. awf_bundle.", show_default=False)]


def state_summary(flag: Flag, state: FlagState) -> str:
    """What one environment serves: ``killed``, ``on``, ``25% · 1 rule · 2 pins``, ``off``."""
    if not state.enabled:
        return "killed"
    parts = []
    if state.default is not None and state.default != flag.off_value:
        parts.append(show_value(state.default))
    if state.rollout:
        parts.append(f"{state.rollout:g}%")
    if state.rules:
        parts.append(f"{len(state.rules)} rule{'s' * (len(state.rules) != 1)}")
    if state.overrides:
        parts.append(f"{len(state.overrides)} pin{'s' * (len(state.overrides) != 1)}")
    return " · ".join(parts) or show_value(flag.off_value)


@app.command("create")
def create(
    key: Key,
    *,
    actor: Actor = None,
    description: Annotated[str, typer.Option(help="What the flag switches.")] = "",
    owner: Annotated[str | None, typer.Option(help="Team or person answerable.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    env_var: Annotated[
        str | None,
        typer.Option("--env-var", help="Process env var that wins when set, e.g. AWF_BUNDLE_ON."),
    ] = None,
    variants: Annotated[
        str | None, typer.Option(help="Multivariate: NAME=WEIGHT pairs summing to 100, a=50,b=50.")
    ] = None,
    stickiness: Annotated[
        str, typer.Option(help="Context attribute the rollout sticks to.")
    ] = "user",
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Create a flag, off in every environment (kill switch engaged).

    Example: phased flag create awf_bundle --env-var AWF_BUNDLE_ON --actor admin
    """
    who = actor_of(actor)
    from phased.service.flags import parse_variants

    with open_backend(db) as backend:
        backend.flags.create_flag(
            actor=who,
            key=key,
            description=description,
            owner=owner,
            tags=tuple(tag or ()),
            variants=parse_variants(variants),
            env_var=env_var,
            stickiness=stickiness,
        )
        stored = backend.flags.get_flag(key)
    if json_out:
        print_json(stored.to_dict())
        return
    say(f"created flag [bold]{key}[/bold], off in {', '.join(backend.environments)}")
    say(f"next: phased flag enable {key} --env dev --actor {who}")


@app.command("list")
def list_(
    env: EnvFilter = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="List deleted (archived) flags instead.")
    ] = False,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """List flags with what each environment serves (deleted ones with --archived).

    Example: phased flag list --json
    """
    if archived:
        _list_archived(db, json_out)
        return
    with open_backend(db) as backend:
        rows = backend.flags.list_flags()
        envs = [env] if env else list(backend.environments)
        if env:
            from phased.service.base import check_environment

            check_environment(backend, env)
    if json_out:
        print_json([r.to_dict() for r in rows])
        return
    console().print(
        flags_table(rows, envs) if rows else "no flags yet: phased flag create KEY --actor NAME"
    )


def _list_archived(db: str | None, json_out: bool) -> None:
    with open_backend(db) as backend:
        rows = backend.flags.list_archived()
    if json_out:
        print_json(
            [
                {
                    **r.flag.model_dump(mode="json", by_alias=True),
                    "archived_by": r.archived_by,
                    "archived_at": r.archived_at.isoformat(),
                }
                for r in rows
            ]
        )
        return
    if not rows:
        say("no archived flags")
        return
    for r in rows:
        say(f"{r.flag.key}  archived {r.archived_at:%Y-%m-%d %H:%M} by {r.archived_by}")
    say(f"restore one with: phased flag restore {rows[0].flag.key} --actor NAME")


def flags_table(rows: list[StoredFlag], envs: list[str]) -> Table:
    """The flags as a table: key, kind, what each environment serves, description."""
    from rich.table import Table

    wide = console().width >= 120
    columns = ["flag", "kind", *envs] + (["description"] if wide else [])
    table = Table(*columns, box=None, pad_edge=False)
    for row in rows:
        flag = row.flag
        cells = [flag.key, flag.kind, *(state_summary(flag, flag.state(e)) for e in envs)]
        table.add_row(*cells, *([flag.description] if wide else []))
    return table


@app.command("show")
def show(key: Key, db: Db = None, json_out: Json = False) -> None:
    """Show one flag: definition and every environment's state, with versions.

    Example: phased flag show awf_bundle
    """
    from rich.table import Table

    with open_backend(db) as backend:
        stored = backend.flags.get_flag(key)
        envs = backend.environments
    if json_out:
        print_json(stored.to_dict())
        return
    flag = stored.flag
    out = console()
    out.print(f"[bold]{flag.key}[/bold] ({flag.kind}, version {stored.version})")
    for label, value in (
        ("description", flag.description),
        ("owner", flag.owner),
        ("tags", ", ".join(flag.tags)),
        ("variants", ", ".join(f"{k}={v}" for k, v in (flag.variants or {}).items())),
        ("env var", flag.env_var),
        ("stickiness", flag.stickiness),
        ("requires", ", ".join(f"{r.flag}={show_value(r.is_)}" for r in flag.requires)),
    ):
        if value:
            out.print(f"  {label}: {value}")
    table = Table("env", "version", "serves", "rules", "overrides", box=None, pad_edge=False)
    for env in envs:
        state = flag.state(env)
        rules = "; ".join(
            r.label + (f" → {show_value(r.serve)}" if r.serve is not None else "")
            for r in state.rules
        )
        pins = "; ".join(
            f"{o.label} → {show_value(o.serve)}"
            + (f" until {o.expires:%Y-%m-%d %H:%M}" if o.expires else "")
            for o in state.overrides
        )
        table.add_row(
            env,
            str(stored.state_versions[env]),
            state_summary(flag, state),
            rules or "-",
            pins or "-",
        )
    out.print(table)


def _switch(
    key: str,
    *,
    env: str | None,
    actor: str | None,
    db: str | None,
    enabled: bool,
    expect: int | None,
    force: bool = False,
) -> None:

    who, where = actor_of(actor), env_of(env)
    with open_backend(db) as backend:
        result = backend.flags.set_enabled(
            actor=who,
            key=key,
            environment=where,
            enabled=enabled,
            expected_version=expect,
            force=force,
        )
        state = backend.flags.get_flag(key)
    word = "enabled" if enabled else "disabled (killed)"
    say(changed_line(result, f"{key} {word} in {where}"))
    if enabled:
        say(f"  {where} serves: {state_summary(state.flag, state.flag.state(where))}")


@app.command("enable")
def enable(
    key: Key,
    *,
    env: Env = None,
    actor: Actor = None,
    expect_version: ExpectVersion = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Release the kill switch in one environment (rules, rollout and default apply).

    Example: phased flag enable awf_bundle --env prod --actor admin
    """
    _switch(key, env=env, actor=actor, db=db, enabled=True, expect=expect_version, force=force)


@app.command("disable")
def disable(
    key: Key,
    *,
    env: Env = None,
    actor: Actor = None,
    expect_version: ExpectVersion = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Engage the kill switch: everyone gets the off value in that environment.

    During a rollout the plan controls the flag: pass --force (the rollout is then held).
    Example: phased flag disable awf_bundle --env prod --actor oncall
    """
    _switch(key, env=env, actor=actor, db=db, enabled=False, expect=expect_version, force=force)


@app.command("set-default")
def set_default(
    key: Key,
    *,
    value: Annotated[str, typer.Argument(help="on/off, or a variant name.", show_default=False)],
    env: Env = None,
    actor: Actor = None,
    expect_version: ExpectVersion = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Set what contexts no override, rule or rollout reached get.

    Example: phased flag set-default enable_debug_cmd on --env dev --actor admin
    """
    who, where = actor_of(actor), env_of(env)
    with open_backend(db) as backend:
        result = backend.flags.set_default(
            actor=who,
            key=key,
            environment=where,
            value=value,
            expected_version=expect_version,
            force=force,
        )
    say(changed_line(result, f"{key} default in {where} is {value}"))


@app.command("delete")
def delete(
    key: Key, actor: Actor = None, expect_version: ExpectVersion = None, db: Db = None
) -> None:
    """Delete (archive) a flag: no longer served; history, audit and `flag restore` remain.

    Refused while a rollout of it is going. Example: phased flag delete old_checkout --actor admin
    """
    who = actor_of(actor)
    with open_backend(db) as backend:
        result = backend.flags.delete_flag(actor=who, key=key, expected_version=expect_version)
    say(changed_line(result, f"deleted flag {key}"))


@app.command("restore")
def restore(key: Key, actor: Actor = None, db: Db = None) -> None:
    """Bring a deleted (archived) flag back as it was when deleted.

    Example: phased flag restore old_checkout --actor admin
    """
    who = actor_of(actor)
    with open_backend(db) as backend:
        result = backend.flags.restore_flag(actor=who, key=key)
    say(changed_line(result, f"restored flag {key}"))


def register(root: typer.Typer) -> None:
    """Add ``phased flag`` to the root app."""
    root.add_typer(app, name="flag")
