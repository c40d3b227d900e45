"""``phased eval``: what a flag serves a context, and why."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phased.cli.common import (
    Db,
    Env,
    Json,
    env_of,
    open_backend,
    print_json,
    say,
    show_value,
)


def parse_context(items: list[str]) -> dict[str, Any]:
    """``user=u1``, ``labels=[beta-test, vip]`` -> a context mapping."""
    from phased.errors import ValidationError

    ctx: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(
                f"cannot read {item!r}; write KEY=VALUE, e.g. --ctx user=u1 --ctx role=admin",
                field="ctx",
            )
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            ctx[name.strip()] = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        else:
            ctx[name.strip()] = value
    return ctx


def eval_command(
    key: Annotated[str, typer.Argument(help="The flag key.", show_default=False)],
    ctx: Annotated[
        list[str] | None,
        typer.Option("--ctx", help="Context attribute KEY=VALUE (repeatable; lists as [a,b])."),
    ] = None,
    env: Env = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Evaluate a flag for a context from the store: value, variant, reason.

    Example: phased eval awf_bundle --env prod --ctx user=u1 --ctx role=admin
    """
    import os
    import time

    from phased.core.evaluate import CompiledFlagSet
    from phased.service.base import require_flag

    where = env_of(env)
    context = parse_context(ctx or [])
    with open_backend(db) as backend:
        flagset = backend.flags.load_flagset(where)
    require_flag(flagset, key)
    # The same compiled evaluator the SDK runs, env vars of this shell included.
    compiled = CompiledFlagSet(flagset, where, env=os.environ, clock=time.time)
    result = compiled.evaluate(key, context)
    if json_out:
        print_json(
            {
                "flag": key,
                "environment": where,
                "context": context,
                "value": result.value,
                "variant": result.variant,
                "reason": result.reason,
            }
        )
        return
    say(f"{key} in {where}: [bold]{show_value(result.value)}[/bold]  ({result.reason})")


def register(root: typer.Typer) -> None:
    """Add ``phased eval`` to the root app."""
    root.command("eval")(eval_command)
