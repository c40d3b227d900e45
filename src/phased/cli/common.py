"""What every command group shares: options, settings, the store, output.

Kept light: heavy modules (SQLAlchemy, rich tables) are imported inside
functions so that ``phased --help`` starts fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from phased.backend.http import Remote
    from phased.backend.protocol import Backend
    from phased.service.base import Result
    from phased.settings import Settings
    from phased.store.engine import Store

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (or PHASED_DATABASE_URL; default sqlite:///./phased.db).",
        show_default=False,
    ),
]
Actor = Annotated[
    str | None,
    typer.Option("--actor", help="Who makes the change (or PHASED_ACTOR).", show_default=False),
]
Env = Annotated[
    str | None,
    typer.Option("--env", help="Environment (or PHASED_ENV; default dev).", show_default=False),
]
EnvFilter = Annotated[
    str | None,
    typer.Option("--env", help="Only this environment.", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Change a flag a running plan controls anyway; the rollout is then held "
        "(forced drift, audited) until someone resumes it.",
    ),
]
ExpectVersion = Annotated[
    int | None,
    typer.Option(
        "--expect-version",
        help="Refuse the change unless the row is still at this version (see `show --json`).",
        show_default=False,
    ),
]


def settings() -> Settings:
    """The settings of this invocation (read fresh: tests set PHASED_* per run)."""
    from phased.settings import load_settings

    return load_settings()


def open_backend(db: str | None) -> Backend:
    """Where this command works: the store named by ``--db`` (or PHASED_DATABASE_URL, or
    the default), through the service layer; with PHASED_SERVER set, the server's API.

    Either way the command calls the same typed methods (``backend.flags.get_flag(key)``)
    and gets the same objects back, so it prints the same output. ``--db`` together
    with PHASED_SERVER is refused as ambiguous. Each area call is recorded as a step
    of the command's trace.
    """
    from phased.backend.protocol import AREAS
    from phased.cli.tracing import traced

    found = remote()
    backend: Backend
    if found is not None:
        if db is not None:
            usage_error(
                f"--db {db} and PHASED_SERVER {found.server} both name where to work; "
                "unset PHASED_SERVER to use the database, or drop --db"
            )
        from phased.backend.http import HttpBackend

        backend = HttpBackend(found)
    else:
        from phased.backend.local import LocalBackend
        from phased.store.engine import open_store as _open

        conf = settings()
        backend = LocalBackend(_open(db or conf.database_url, environments=conf.environments))
    for area in AREAS:
        setattr(backend, area, traced(getattr(backend, area), area))
    return backend


def local_store(db: str | None, command: str) -> Store:
    """The database itself, for commands that have no API (``engine run``, ``demo``, alerts).

    With PHASED_SERVER set they need an explicit ``--db``: a command quietly
    working on a local file while the user believes it talks to the server
    would be worse than a refusal.
    """
    from phased.errors import ConfigurationError
    from phased.store.engine import open_store as _open

    found = remote()
    if found is not None and db is None:
        raise ConfigurationError(
            f"`phased {command}` works on a database, not through a server, and PHASED_SERVER "
            f"is set ({found.server}); give --db URL, or unset PHASED_SERVER",
            field="server",
        )
    conf = settings()
    return _open(db or conf.database_url, environments=conf.environments)


_remote: dict[str, Remote | None] = {}


def remote() -> Remote | None:
    """The server named by PHASED_SERVER + PHASED_TOKEN, or None to use the database."""
    if "current" not in _remote and not settings().server:
        _remote["current"] = None  # the database: no need to load httpx
    if "current" not in _remote:
        from phased.backend.http import from_settings

        _remote["current"] = from_settings()
    return _remote["current"]


def forget_remote() -> None:
    """Close the server connection (the root command calls this around each invocation)."""
    found = _remote.pop("current", None)
    if found is not None:
        found.close()


def actor_of(actor: str | None) -> str:
    """``--actor`` or PHASED_ACTOR; a usage error (exit 2) when neither is given.

    Against a server the actor is the token's owner: a given actor must be that
    name (anything else is refused, so nobody believes a change was made in
    another name), and none is needed.
    """
    name = actor or settings().actor
    from phased.cli.tracing import note_actor

    found = remote()
    if found is not None:
        name = _token_owner(found, name)
    elif not name or not name.strip():
        usage_error("missing option '--actor' (or set PHASED_ACTOR): who makes this change?")
    note_actor(name)
    return name


def _token_owner(server: Remote, claimed: str | None) -> str:
    from phased.errors import ValidationError

    owner = str(server.request("GET", "/tokens/me")["name"])
    if claimed and claimed.strip() and claimed.strip() != owner:
        raise ValidationError(
            f"over PHASED_SERVER the actor is the token's owner {owner!r}, not {claimed!r}; "
            "drop --actor (and PHASED_ACTOR) or use that person's token",
            field="actor",
        )
    return owner


def usage_error(message: str) -> NoReturn:
    """A usage mistake: one line on stderr, exit 2."""
    from phased.cli.tracing import refused

    refused(f"usage: {message}")
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def env_of(env: str | None) -> str:
    """``--env`` or PHASED_ENV (default ``dev``)."""
    return env or settings().env


def console() -> Console:
    """A rich console on stdout."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    """JSON on stdout, one document, keys in a stable order."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def show_value(value: object) -> str:
    """``on``/``off`` for booleans, the variant name otherwise."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


def say(text: str) -> None:
    """One line for people (rich markup allowed)."""
    console().print(text)


def changed_line(result: Result, what: str) -> str:
    """``what (revision N)`` or a note that nothing changed."""
    if not result.changed:
        return f"{what}: already so, nothing written"
    return f"{what} [dim](revision {result.revision}, audit #{result.entries[-1].id})[/dim]"
