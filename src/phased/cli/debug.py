"""``phased debug-last``: the most recent trace, redacted, under 2,000 characters.

Gated by phased's own flag ``enable_debug_cmd`` (on in dev and staging, off in
prod; ``ENABLE_DEBUG_CMD`` overrides). With ``PHASED_SERVER`` set it
asks the server (``GET /api/v1/debug/last``); otherwise it reads the local
trace file that phased commands append to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phased.cli.common import Env, Json, env_of, print_json, settings
from phased.errors import PermissionDeniedError, SourceError


def _from_server(server: str, token: str | None, user: str | None) -> str:
    """The rendered trace from the server (text/plain; a JSON ``{"text": ...}`` also works)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"user": user} if user else {}
    url = server.rstrip("/") + "/api/v1/debug/last"
    try:
        response = httpx.get(url, params=params, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise SourceError(
            f"cannot reach the server: {type(exc).__name__}; check PHASED_SERVER",
            path=server,
        ) from None
    if response.status_code != 200:
        raise SourceError(f"answered {response.status_code}: {response.text[:200]}", path=url)
    if response.headers.get("content-type", "").startswith("application/json"):
        return str(response.json().get("text", ""))
    return response.text


def debug_last(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's traces.")] = None,
    env: Env = None,
    traces: Annotated[
        Path | None,
        typer.Option("--traces", help="The local trace file (PHASED_TRACE_FILE)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Show the most recent execution trace: steps with ✅/❌/⏳, timings, error, links."""
    from phased.obs.debug_last import render_debug_last
    from phased.obs.tracefile import load_traces, trace_to_dict
    from phased.selfflags import debug_cmd_enabled

    environment = env_of(env)
    if not debug_cmd_enabled(environment):
        raise PermissionDeniedError(
            f"debug-last is off in environment {environment!r}; "
            "set ENABLE_DEBUG_CMD=true to allow it here",
            field="enable_debug_cmd",
        )
    current = settings()
    if current.server:
        text = _from_server(current.server, current.token, user)
        if as_json:
            print_json({"text": text})
        else:
            typer.echo(text)
        return
    store = load_traces(traces or current.trace_file)
    if as_json:
        last = store.last(user)
        print_json(trace_to_dict(last) if last else None)
        return
    typer.echo(render_debug_last(user, store=store))


def register(root: typer.Typer) -> None:
    """Add ``phased debug-last`` to the root command."""
    root.command("debug-last")(debug_last)
