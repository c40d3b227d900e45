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
    from phased.server import preflight
    from phased.server.app import create_app
    from phased.server.background import (
        AlertDelivery,
        EngineHost,
        alert_worker_for,
        default_tick,
    )
    from phased.server.bootstrap import bootstrap
    from phased.store import open_store
    from phased.store.url import sqlite_path

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
    # Everything that can refuse is checked before anything is created (preflight.py).
    sock = None
    created = None
    try:
        settings = preflight.load_server_settings(**overrides, engine=engine)
        if settings.demo_traffic and settings.env != "dev":
            raise PhasedError("demo_traffic: demo traffic runs only with PHASED_ENV=dev")
        configure_logging(settings)
        sock = preflight.bind(settings.host, settings.port)
        preflight.check_database(settings.database_url)
        sqlite = sqlite_path(settings.database_url)
        created = sqlite if sqlite is not None and not sqlite.exists() else None
        store = open_store(settings.database_url, environments=settings.environments)
        try:
            worker = alert_worker_for(settings, store)  # refuses alerts on without a channel
        except PhasedError:
            store.close()
            raise
    except PhasedError as exc:
        if sock is not None:
            sock.close()
        preflight.forget_new_sqlite(created)
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        raise typer.Exit(1) from None
    if settings.bootstrap:
        first = bootstrap(store, settings.examples_dir)
        _report(first, settings.database_url)
    extra: list[Any] = []
    if settings.demo_traffic:
        from phased.server.demo import DemoTraffic

        extra.append(DemoTraffic().tick)
    host_obj = EngineHost(
        default_tick() if settings.engine else None,
        extra=extra,
        alerts=AlertDelivery(worker),
    )
    app = create_app(settings, store, background=host_obj)
    bound_port = sock.getsockname()[1]
    typer.echo(
        f"phased serving http://{settings.host}:{bound_port} (API docs at /docs, "
        f"store {store.url})",
        err=True,
    )
    try:
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=bound_port,
            log_level="warning",
            # uvicorn's own config would print plain text; without it its records
            # reach phased's JSON handler. The access log is phased's (server/tracing.py).
            log_config=None,
            timeout_graceful_shutdown=2,
            access_log=False,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
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
