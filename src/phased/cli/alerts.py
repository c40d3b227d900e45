"""``phased alerts``: the outbox (list, failed ones), test a channel, run delivery."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phased.cli.common import Db, Env, Json, env_of, local_store, print_json
from phased.errors import ValidationError

if TYPE_CHECKING:
    from phased.alerts.config import AlertsConfig

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
    """List queued and sent alerts, newest first."""
    from phased.alerts.outbox import Outbox
    from phased.alerts.queue import DeliveryStatus

    wanted: DeliveryStatus | None = DeliveryStatus.FAILED if failed else None
    if status is not None:
        valid = ", ".join(s.value for s in DeliveryStatus)
        if status not in {s.value for s in DeliveryStatus}:
            raise ValidationError(f"unknown status {status!r}; valid: {valid}", field="--status")
        wanted = DeliveryStatus(status)
    with local_store(db, "alerts list") as store:
        rows = Outbox(store.engine).list(status=wanted, limit=limit)
    if as_json:
        payload = [
            {
                "id": r.id,
                "status": r.status.value,
                "attempts": r.attempts,
                "channels_done": list(r.channels_done),
                "last_error": r.last_error,
                "created_at": r.created_at.isoformat(),
                "updated_at": r.updated_at.isoformat(),
                "next_attempt_at": r.next_attempt_at.isoformat(),
                "alert": r.alert.model_dump(mode="json"),
            }
            for r in rows
        ]
        print_json(payload)
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
    channel: Annotated[str, typer.Option("--channel", help="The channel name in the file.")],
    config: ConfigFile = None,
    message: Annotated[str | None, typer.Option("--message", help="Text to send.")] = None,
) -> None:
    """Send a test alert straight to one channel (even while ENABLE_ALERTS is off)."""
    import httpx

    from phased.alerts.queue import MemoryQueue
    from phased.alerts.worker import AlertWorker

    settings = _load_config(config, required=True)
    with httpx.Client() as http:
        worker = AlertWorker(settings, MemoryQueue(), enabled=False, http=http)
        worker.send_test(channel, message=message)
    typer.echo(f"sent a test alert to {channel}")


@app.command("deliver")
def deliver(
    config: ConfigFile = None,
    db: Db = None,
    env: Env = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit.")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between passes.")] = 1.0,
) -> None:
    """Run the delivery worker on the store's outbox (phased serve runs one too)."""
    import httpx

    from phased.alerts.outbox import Outbox
    from phased.alerts.worker import AlertWorker
    from phased.selfflags import alerts_enabled

    enabled = alerts_enabled(env_of(env))
    settings = _load_config(config, required=enabled)
    with local_store(db, "alerts deliver") as store, httpx.Client() as http:
        worker = AlertWorker(settings, Outbox(store.engine), enabled=enabled, http=http)
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
