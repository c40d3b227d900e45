"""``phased serve``: the HTTP API with the engine running inside."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from phased.errors import PhasedError


def register(root: typer.Typer) -> None:
    """Add ``phased serve`` to the root command."""
    root.command("serve")(serve)


def serve(
    *,
    host: Annotated[str | None, typer.Option("--host", help="Interface (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="TCP port (8700).")] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="PHASED_DATABASE_URL", help="Store URL (default from settings)."
        ),
    ] = None,
    engine: Annotated[
        bool, typer.Option("--engine/--no-engine", help="Run the reconcile loop when leading.")
    ] = True,
    examples: Annotated[
        Path | None,
        typer.Option("--examples", help="Flags and plans loaded into an empty store (examples/)."),
    ] = None,
    demo_traffic: Annotated[
        bool | None,
        typer.Option(
            "--demo-traffic/--no-demo-traffic",
            help="DEMO ONLY: synthetic outcomes for running rollouts in dev (off by default).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (docs at /docs) and run the engine when this replica leads."""
    import uvicorn

    from phased.obs.log import configure_logging
    from phased.server.app import create_app
    from phased.server.background import (
        AlertDelivery,
        EngineHost,
        alert_worker_for,
        default_tick,
    )
    from phased.server.bootstrap import bootstrap
    from phased.server.config import ServerSettings
    from phased.store import open_store

    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "host": host,
            "port": port,
            "database_url": db,
            "examples_dir": examples,
            "demo_traffic": demo_traffic,
        }.items()
        if v is not None
    }
    try:
        settings = ServerSettings(**overrides, engine=engine)
        configure_logging(settings)
        store = open_store(settings.database_url, environments=settings.environments)
        worker = alert_worker_for(settings, store)  # refuses alerts on without a channel
        if settings.bootstrap:
            first = bootstrap(store, settings.examples_dir)
            _report(first, settings.database_url)
    except PhasedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    extra: list[Any] = []
    if settings.demo_traffic:
        if settings.env != "dev":
            typer.echo("error: demo traffic runs only with PHASED_ENV=dev", err=True)
            raise typer.Exit(1)
        from phased.server.demo import DemoTraffic

        extra.append(DemoTraffic().tick)
    host_obj = EngineHost(
        default_tick() if settings.engine else None,
        extra=extra,
        alerts=AlertDelivery(worker),
    )
    app = create_app(settings, store, background=host_obj)
    typer.echo(
        f"phased serving http://{settings.host}:{settings.port} (API docs at /docs, "
        f"store {store.url})",
        err=True,
    )
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            # uvicorn's own config would print plain text; without it its records
            # reach phased's JSON handler. The access log is phased's (server/tracing.py).
            log_config=None,
            timeout_graceful_shutdown=2,
            access_log=False,
        )
    finally:
        store.close()


def _report(first: Any, url: str) -> None:
    if first.flags_loaded or first.plans_applied:
        plans = ", ".join(first.plans_applied) or "none"
        typer.echo(
            f"empty store: loaded {first.flags_loaded} example flags; plans applied: {plans}",
            err=True,
        )
    for problem in first.problems:
        typer.echo(f"warning: example not loaded: {problem}", err=True)
    if first.admin_secret:
        # stdout, alone on its line, so a script can capture it; shown once.
        typer.echo(
            "\nThe first admin token (shown once; keep it, e.g. export PHASED_TOKEN=...):",
            err=True,
        )
        typer.echo(first.admin_secret)
        sys.stdout.flush()
