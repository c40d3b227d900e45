"""``phased engine run``: the reconcile loop, in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TextIO, cast

import typer

from phased.cli.common import Db, local_store, say


class _Stderr:
    """Whatever ``sys.stderr`` is at each write (it is swapped under test runners)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


app = typer.Typer(help="The engine that advances and rolls back rollouts.", no_args_is_help=True)


@app.command("run")
def run(
    *,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[
        str, typer.Option("--interval", help="Time between passes: 10s, 1m, ...")
    ] = "10s",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record decisions and alerts; act on none.")
    ] = False,
    alerts: Annotated[
        Path | None,
        typer.Option("--alerts", help="An alerts config: deliver the outbox after each pass."),
    ] = None,
    db: Db = None,
) -> None:
    """Decide about every going rollout every INTERVAL and apply the decisions.

    Example: phased engine run --interval 10s --alerts alerts.yaml
    """
    from phased.cli.common import settings
    from phased.core.durations import parse_duration
    from phased.engine.leader import LeaderElection
    from phased.engine.loop import Engine, PassReport, engine_settings
    from phased.errors import ConflictError, ValidationError
    from phased.obs.log import configure_logging
    from phased.store.leader_lock import lock_for

    try:
        seconds = parse_duration(interval).total_seconds()
    except ValueError as exc:
        raise ValidationError(str(exc), field="interval") from None
    if seconds <= 0:
        raise ValidationError(f"must be positive (got {interval!r})", field="interval")
    # JSON lines on stderr (stdout keeps the decisions); _Stderr writes like a TextIO.
    configure_logging(settings(), stream=cast(TextIO, _Stderr()))
    with local_store(db, "engine run") as store:
        deliver = None
        if alerts is not None:
            from phased.alerts import AlertWorker, load_alerts_config
            from phased.service.alerts import outbox

            worker = AlertWorker(load_alerts_config(alerts), outbox(store), enabled=True)
            deliver = worker.run_once
        engine = Engine(store, dry_run=dry_run, deliver=deliver, **engine_settings(settings()))

        def show(report: PassReport) -> None:
            for o in report.outcomes:
                if o.acted or (o.dry_run and o.decision != "hold") or once:
                    dry = " (dry run)" if o.dry_run else ""
                    say(f"{o.flag}: {o.decision}{dry} — {o.reason}")
            for error in report.errors:
                say(f"[red]error[/]: {error}")

        # One engine decides at a time: another `engine run` or a `phased serve` may lead.
        closing: list[bool] = []

        def changed(leading: bool) -> None:
            if not once and not closing:
                say("leading" if leading else "following: another process leads")

        election = LeaderElection(
            lock_for(store), changed, poll_seconds=settings().leader_poll_seconds
        )
        try:
            if once:
                if not election.round():
                    raise ConflictError(
                        "another engine (`phased engine run` or `phased serve`) holds the "
                        f"leader lock on {store.url}; let it decide, or stop it first",
                        field="leader",
                    )
                show(engine.run_once())
                return
            say(f"engine running every {interval} on {store.url} (Ctrl-C to stop)")
            if not election.round():
                say("following: another process leads; taking over when it stops")
            try:
                engine.run(interval=seconds, on_pass=show, leader=election)
            except KeyboardInterrupt:
                say("engine stopped")
        finally:
            closing.append(True)
            election.stop()


def register(root: typer.Typer) -> None:
    """Add ``phased engine`` to the root app."""
    root.add_typer(app, name="engine")
