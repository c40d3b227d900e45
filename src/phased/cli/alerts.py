"""``phased alerts``: the outbox (list, --failed), the channel config, test sends, delivery."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from phased.cli.common import (
    Actor,
    Db,
    Env,
    ExpectVersion,
    Json,
    actor_of,
    env_of,
    local_store,
    open_backend,
    print_json,
    remote,
    settings,
    usage_error,
)
from phased.errors import ValidationError

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig
    from phased.alerts.queue import DeliveryStatus, QueuedAlert
    from phased.service.alerts import AlertsSettings, ChannelResult

app = typer.Typer(help="Alerts: the outbox, channels and delivery.", no_args_is_help=True)

ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="The alerts YAML file (PHASED_ALERTS_CONFIG; alerts.yaml)."),
]


def _load_config(path: Path | None, *, required: bool) -> AlertsConfig:
    from phased.alerts.config import load_alerts_config, parse_alerts_config
    from phased.settings import get_settings

    path = path or get_settings().alerts_config
    if not path.exists() and not required:
        return parse_alerts_config({})
    return load_alerts_config(path)


def _status(failed: bool, status: str | None) -> DeliveryStatus | None:
    from phased.alerts.queue import DeliveryStatus

    wanted: DeliveryStatus | None = DeliveryStatus.FAILED if failed else None
    if status is not None:
        valid = ", ".join(s.value for s in DeliveryStatus)
        if status not in {s.value for s in DeliveryStatus}:
            raise ValidationError(f"unknown status {status!r}; valid: {valid}", field="--status")
        wanted = DeliveryStatus(status)
    return wanted


def _row_json(row: QueuedAlert, results: list[ChannelResult]) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status.value,
        "attempts": row.attempts,
        "channels_done": list(row.channels_done),
        "channels": [{"channel": r.channel, "status": r.status, "error": r.error} for r in results],
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "alert": row.alert.model_dump(mode="json"),
    }


@app.command("list")
def list_alerts(
    failed: Annotated[bool, typer.Option("--failed", help="Only alerts that failed.")] = False,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only this status: pending, delivered, failed, suppressed, skipped."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    as_json: Json = False,
    db: Db = None,
) -> None:
    """List queued and sent alerts, newest first (secrets masked)."""
    wanted = _status(failed, status)
    with open_backend(db) as backend:
        rows = backend.alerts.list_alerts(status=wanted, limit=limit, file=settings().alerts_config)
    if as_json:
        from phased.service.alerts import channel_results

        print_json([_row_json(r, channel_results(r)) for r in rows])
        return
    if not rows:
        typer.echo("no alerts")
        return
    for r in rows:
        when = r.created_at.strftime("%Y-%m-%d %H:%M:%S")
        sev = f"{r.alert.severity.emoji} {r.alert.severity.value}"
        line = f"#{r.id:<5} {r.status.value:<10} {sev:<12} attempts {r.attempts}  {when}  "
        line += r.alert.message
        if r.last_error and r.status.value != "delivered":
            line += f"  — {r.last_error}"
        typer.echo(line)


@app.command("test")
def send_test_alert(
    channel: Annotated[str, typer.Option("--channel", help="The channel's name.")],
    config: ConfigFile = None,
    message: Annotated[str | None, typer.Option("--message", help="Text to send.")] = None,
    db: Db = None,
) -> None:
    """Send a test alert straight to one channel (even while ENABLE_ALERTS is off).

    The channel is looked up in --config when given, else in the configuration
    in force: the one stored with `alerts config set`, else the alerts file.
    Against a server (PHASED_SERVER) the server sends it through its channels.
    """
    from phased.errors import DeliveryError

    if config is not None:
        if remote() is not None:
            usage_error(
                "--config and PHASED_SERVER both name the channels; against a server its own "
                "channels are tested, so drop --config (or unset PHASED_SERVER)"
            )
        from phased.service.alerts import send_test

        result = send_test(
            None, channel=channel, message=message, config=_load_config(config, required=True)
        )
    else:
        with open_backend(db) as backend:
            result = backend.alerts.send_test(
                channel=channel, message=message, file=settings().alerts_config
            )
    if not result.delivered:
        raise DeliveryError(result.error or "not delivered", channel=result.channel)
    typer.echo(f"sent a test alert to {channel}")


config_app = typer.Typer(
    help="The channel configuration: stored with `set` (wins over the file) or the file's.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show_config(as_json: Json = False, db: Db = None) -> None:
    """The alerts configuration in force, where it comes from, secrets masked."""
    with open_backend(db) as backend:
        found = backend.alerts.get_config(file=settings().alerts_config)
    if as_json:
        print_json(
            {
                "origin": found.origin,
                "version": found.version,
                "path": found.path,
                "updated_by": found.updated_by,
                "updated_at": found.updated_at.isoformat() if found.updated_at else None,
                "config": found.document,
            }
        )
        return
    typer.echo(_origin_line(found))
    if found.document:
        import yaml

        typer.echo(yaml.safe_dump(found.document, sort_keys=False, allow_unicode=True).rstrip())


def _origin_line(found: AlertsSettings) -> str:
    if found.origin == "api":
        when = found.updated_at.strftime("%Y-%m-%d %H:%M:%S") if found.updated_at else "?"
        return f"# stored through the API: version {found.version}, by {found.updated_by}, {when}"
    if found.origin == "file":
        return f"# from the file {found.path} (nothing stored; `alerts config set` would win)"
    return f"# no alerts configuration: nothing stored and no file at {found.path}"


@config_app.command("set")
def set_config(
    file: Annotated[
        Path, typer.Argument(help="An alerts YAML file (docs/alerts.md).", show_default=False)
    ],
    expect_version: ExpectVersion = None,
    actor: Actor = None,
    env: Env = None,
    db: Db = None,
) -> None:
    """Store FILE's configuration: it then wins over the alerts file, on every replica.

    `${VAR}` references are kept and expanded where the worker runs. A masked
    value left as `show` printed it (`***abcd`) keeps the stored secret.
    """
    from phased.alerts.config import read_document
    from phased.selfflags import alerts_enabled

    document = read_document(file)
    with open_backend(db) as backend:
        stored = backend.alerts.set_config(
            actor=actor_of(actor),
            document=document,
            version=expect_version,
            file=settings().alerts_config,
            require_channels=alerts_enabled(env_of(env)),
        )
    channels = ", ".join(sorted(stored.document.get("channels") or {})) or "none"
    typer.echo(f"stored alerts config version {stored.version} (channels: {channels})")


@app.command("deliver")
def deliver(
    config: ConfigFile = None,
    db: Db = None,
    env: Env = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit.")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between passes.")] = 1.0,
) -> None:
    """Run the delivery worker on the store's outbox (phased serve runs one too).

    Without --config the channels are the configuration in force (stored with
    `alerts config set`, else the alerts file), followed as it changes.
    """
    import httpx

    from phased.alerts.config import parse_alerts_config
    from phased.alerts.live import LiveAlertWorker
    from phased.alerts.stored import effective_config
    from phased.alerts.worker import AlertWorker
    from phased.selfflags import alerts_enabled
    from phased.service.alerts import outbox

    enabled = alerts_enabled(env_of(env))
    with local_store(db, "alerts deliver") as store, httpx.Client() as http:
        worker: AlertWorker | LiveAlertWorker
        if config is not None or not enabled:
            chosen = _load_config(config, required=True) if config else parse_alerts_config({})
            worker = AlertWorker(chosen, outbox(store), enabled=enabled, http=http)
        else:
            file = settings().alerts_config
            with store.read() as conn:
                source, chosen = effective_config(conn, file)
            base = AlertWorker(chosen, outbox(store), enabled=enabled, http=http)
            worker = LiveAlertWorker(base, store, file=file, version=source.version)
        if once:
            report = worker.drain()
            typer.echo(
                f"delivered {len(report.delivered)}, retrying {len(report.retrying)}, "
                f"failed {len(report.failed)}, suppressed {len(report.suppressed)}, "
                f"skipped {len(report.skipped)}"
            )
            return
        stop = threading.Event()
        try:
            worker.run_forever(stop, poll_seconds=poll)
        except KeyboardInterrupt:
            stop.set()


def register(root: typer.Typer) -> None:
    """Add ``phased alerts`` to the root command."""
    root.add_typer(app, name="alerts")
