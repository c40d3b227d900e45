"""``phased debug-last``: the most recent trace, redacted, under 2,000 characters.

Gated by phased's own flag ``enable_debug_cmd`` (on in dev and staging, off in
prod; ``PHASED_ENABLE_DEBUG_CMD`` overrides). With ``PHASED_SERVER`` set it
asks the server (``GET /api/v1/debug/last``); otherwise it reads the local
trace file that phased commands append to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from phased.errors import PhasedError

DEFAULT_TRACE_FILE = Path(".phased/traces.jsonl")


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _from_server(server: str, token: str | None, user: str | None) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"user": user} if user else {}
    url = server.rstrip("/") + "/api/v1/debug/last"
    try:
        response = httpx.get(url, params=params, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise _fail(
            f"server: cannot reach {server}: {type(exc).__name__}; check PHASED_SERVER"
        ) from None
    if response.status_code != 200:
        raise _fail(f"server: {url} answered {response.status_code}: {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


def debug_last(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's traces.")] = None,
    env: Annotated[
        str | None, typer.Option("--env", envvar="PHASED_ENV", help="Environment (flag gate).")
    ] = None,
    traces: Annotated[
        Path,
        typer.Option("--traces", envvar="PHASED_TRACE_FILE", help="The local trace file."),
    ] = DEFAULT_TRACE_FILE,
    as_json: Annotated[bool, typer.Option("--json", help="The trace as JSON.")] = False,
) -> None:
    """Show the most recent execution trace: steps with ✅/❌/⏳, timings, error, links."""
    from phased.obs.debug_last import render_debug_last
    from phased.obs.tracefile import load_traces, trace_to_dict
    from phased.selfflags import debug_cmd_enabled
    from phased.settings import get_settings

    settings = get_settings()
    environment = env or settings.env
    try:
        allowed = debug_cmd_enabled(environment)
    except PhasedError as exc:
        raise _fail(str(exc)) from None
    if not allowed:
        raise _fail(
            f"enable_debug_cmd: debug-last is off in environment {environment!r}; "
            "set PHASED_ENABLE_DEBUG_CMD=true to allow it here"
        )
    if settings.server:
        body = _from_server(settings.server, settings.token, user)
        typer.echo(json.dumps(body, indent=2) if as_json else body.get("text", ""))
        return
    store = load_traces(traces)
    if as_json:
        last = store.last(user)
        typer.echo(json.dumps(trace_to_dict(last) if last else None, indent=2, default=str))
        return
    typer.echo(render_debug_last(user, store=store))


def register(root: typer.Typer) -> None:
    """Add ``phased debug-last`` to the root command."""
    root.command("debug-last")(debug_last)
