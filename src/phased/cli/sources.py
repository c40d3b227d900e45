"""``phased sources``: the metric sources (list, query one now) and a rollout's query log.

``list`` and ``query`` read the local sources file and ask the sources from
this machine; ``log`` reads the record through the Backend, so it works on
the database and against a server (PHASED_SERVER + PHASED_TOKEN) alike.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phased.cli.common import Db, Json, local_store, open_backend, print_json, settings
from phased.core.clock import utc_now

if TYPE_CHECKING:
    from phased.sources.config import SourcesConfig

app = typer.Typer(
    help="Metric sources: Prometheus, web endpoints, windows of SDK outcomes (docs/sources.md).",
    no_args_is_help=True,
)

ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="The sources YAML file (PHASED_SOURCES_CONFIG; sources.yaml)."),
]


def load(path: Path | None) -> SourcesConfig:
    """The sources file given, or the one in the settings (a missing default file: none)."""
    from phased.sources.config import load_sources_config

    return load_sources_config(path or settings().sources_config, missing_ok=path is None)


@app.command("list")
def list_sources(config: ConfigFile = None, as_json: Json = False) -> None:
    """The configured sources; credentials (headers) are masked."""
    conf = load(config)
    shown = {name: source.public() for name, source in sorted(conf.sources.items())}
    if as_json:
        print_json(shown)
        return
    if not shown:
        typer.echo("no metric sources configured (only the built-in sdk); see docs/sources.md")
        return
    for name, source in shown.items():
        where = source.get("address") or "(the store's outcomes)"
        typer.echo(f"{name}: {source['kind']} {where}, timeout {source['timeout_seconds']:g} s")


@app.command("query")
def query(  # noqa: PLR0917  (typer maps parameters to options)
    name: Annotated[str, typer.Argument(help="A source from the sources file.")],
    text: Annotated[str, typer.Argument(help="The query, with {{flag}} {{stage}} {{arm}} ...")],
    flag: Annotated[str, typer.Option("--flag", help="{{flag}}")] = "",
    stage: Annotated[str, typer.Option("--stage", help="{{stage}}")] = "",
    arm: Annotated[str, typer.Option("--arm", help="{{arm}}: candidate or control.")] = "candidate",
    env: Annotated[str, typer.Option("--env", help="{{environment}}")] = "",
    window: Annotated[float, typer.Option("--window", help="{{interval}}, in seconds.")] = 300.0,
    jsonpath: Annotated[str | None, typer.Option("--jsonpath", help="web sources.")] = None,
    config: ConfigFile = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Ask one source now, as the engine would; exit 1 with its message when there is no number."""
    import httpx

    from phased.core.measured import prometheus_duration, render_query
    from phased.errors import ConfigurationError, SourceQueryError
    from phased.sources.base import SourceQuery
    from phased.sources.registry import build_source

    conf = load(config)
    source_config = conf.sources.get(name)
    if source_config is None:
        known = ", ".join(sorted(conf.names)) or "none"
        raise ConfigurationError(
            f"no metric source {name!r} (configured: {known}); define it in sources.yaml",
            field="name",
        )
    values = {
        "flag": flag,
        "stage": stage,
        "arm": source_config.arms.get(arm, arm),
        "interval": prometheus_duration(window),
        "environment": env,
    }
    rendered = render_query(text, values)
    now = utc_now()
    store = local_store(db, "sources query") if source_config.kind == "sdk" else None
    with httpx.Client() as http, store if store is not None else contextlib.nullcontext():
        source = build_source(name, source_config, http=http, store=store)
        request = SourceQuery(
            query=rendered,
            now=now,
            window_seconds=timedelta(seconds=window).total_seconds(),
            flag=flag,
            stage=stage,
            environment=env,
            arm=arm,
            jsonpath=jsonpath,
            variables=values,
        )
        try:
            value = source.query(request)
        except SourceQueryError as exc:
            if as_json:
                print_json({"source": name, "query": rendered, "ok": False, "message": str(exc)})
            raise
    if as_json:
        print_json({"source": name, "query": rendered, "ok": True, "value": value})
    else:
        typer.echo(f"{value:g}")


@app.command("log")
def log(
    flag: Annotated[str, typer.Argument(help="The flag whose (latest) rollout to show.")],
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="How many queries, newest first.")
    ] = 50,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every source query of the flag's latest rollout: query, answer, latency."""
    with open_backend(db) as backend:
        found = backend.source_queries.list_queries(flag, limit=limit)
    rows = found.queries
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        typer.echo(f"no source queries for the rollout of {flag} (#{found.rollout_id})")
        return
    for r in rows:
        answer = f"{r.value:g}" if r.ok and r.value is not None else f"inconclusive: {r.message}"
        typer.echo(
            f"{r.at.isoformat(timespec='seconds')} {r.stage} {r.source} {r.arm} "
            f"{r.latency_ms:.0f} ms  {r.query}  → {answer}"
        )


def register(root: typer.Typer) -> None:
    """Add ``phased sources`` to the root command."""
    root.add_typer(app, name="sources")
