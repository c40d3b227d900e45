"""``phased token``: API tokens for the server (create, list, revoke).

Against the database (``--db``), or through the server with an admin token
when ``PHASED_SERVER`` and ``PHASED_TOKEN`` are set. The secret of a new
token is printed once, alone on stdout, and never stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from phased.cli.common import Actor, Db, Json, actor_of, open_backend, print_json

app = typer.Typer(help="API tokens for the server: create, list, revoke.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add ``phased token`` to the root command."""
    root.add_typer(app, name="token")


@app.command("create")
def create(
    *,
    role: Annotated[str, typer.Option("--role", help="admin, pm, developer, viewer or sdk.")],
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")],
    env: Annotated[
        str | None, typer.Option("--env", help="The one environment an sdk token reads.")
    ] = None,
    actor: Actor = None,
    json_out: Json = False,
    db: Db = None,
) -> None:
    """Create a token; its secret is printed once.

    Example: phased token create --role pm --name alice --actor admin
    """
    with open_backend(db) as backend:
        who = actor_of(actor)
        new = backend.tokens.create_token(actor=who, name=name, role=role, environment=env)
    token, secret = new.token.to_dict(), new.secret
    if json_out:
        print_json({"token": token, "secret": secret})
        return
    scope = f", environment {token['environment']}" if token.get("environment") else ""
    typer.echo(
        f"token {token['id']} for {token['name']} (role {token['role']}{scope}); "
        "the secret below is shown once:",
        err=True,
    )
    typer.echo(secret)


@app.command("list")
def list_tokens(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    json_out: Json = False,
    db: Db = None,
) -> None:
    """List tokens (never their secrets).

    Example: phased token list --json
    """
    with open_backend(db) as backend:
        rows = [t.to_dict() for t in backend.tokens.list_tokens(include_revoked=include_revoked)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        typer.echo("no tokens; create one with `phased token create --role admin --name NAME`")
        return
    for row in rows:
        state = "revoked" if row.get("revoked_at") else "active"
        env = row.get("environment") or "-"
        typer.echo(
            f"{row['id']}  {row['name']:<20} {row['role']:<9} {env:<8} {row['prefix']}…  "
            f"{state}  created by {row['created_by']}"
        )


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token id (from `phased token list`).")],
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Revoke a token at once.

    Example: phased token revoke 3f2a9c1d0b8e7a65 --actor admin
    """
    with open_backend(db) as backend:
        who = actor_of(actor)
        row = backend.tokens.revoke_token(actor=who, token_id=token_id).to_dict()
    typer.echo(f"revoked token {row['id']} ({row['name']}, role {row['role']})")
