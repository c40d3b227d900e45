"""Work that runs beside the HTTP server: leader election, the engine loop, alert delivery.

Every replica competes for leadership; only the leader runs the reconcile
loop (and, in dev with ``demo_traffic``, the demo traffic generator), so two
replicas never decide about the same rollout at once.

Alert delivery runs on every replica, on its own thread (settling alerts as
skipped while phased's own flag ``ENABLE_ALERTS`` is off): the outbox's
leases keep two workers from sending one alert, a slow or failing channel
never delays a decision, and a configuration stored through the API reaches
every replica's worker without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from phased.alerts.config import parse_alerts_config
from phased.alerts.live import LiveAlertWorker
from phased.alerts.stored import effective_config
from phased.alerts.worker import AlertWorker
from phased.engine.leader import LeaderElection
from phased.errors import ConfigurationError
from phased.obs.log import get_logger
from phased.selfflags import alerts_enabled
from phased.server.state import ServerState
from phased.service import alerts as alerts_service
from phased.settings import Settings
from phased.store.engine import Store
from phased.store.leader_lock import LeaderLock, lock_for

log = get_logger("phased.server.engine")

Tick = Callable[[Store], Any]


def default_tick() -> Tick | None:
    """The engine's reconcile pass, when the engine package provides one."""
    try:
        from phased.engine.loop import reconcile_once
    except ImportError:
        return None
    return reconcile_once


def alert_worker_for(
    settings: Settings, store: Store, *, env: Mapping[str, str] | None = None
) -> LiveAlertWorker:
    """The alert worker this server runs.

    While ``ENABLE_ALERTS`` is off it still runs, settling each decided alert
    as ``skipped`` (visible in ``phased alerts list``): alerts never pile up in
    the outbox to go out late, all at once, when alerts are turned on.

    The channels are the configuration stored through the API when there is
    one, else the file's (:mod:`phased.alerts.stored`); the worker follows
    later changes to the stored one without a restart.

    Args:
        settings: ``env`` (which environment's ``enable_alerts`` applies) and
            ``alerts_config`` (the channels file).
        store: whose outbox the worker delivers.
        env: process variables for the ``ENABLE_ALERTS`` override (the process's own by default).

    Raises:
        ConfigurationError: alerts are on but no channel is configured, or the
            configuration in force is invalid; raised at start, before serving.
    """
    path = settings.alerts_config
    if not alerts_enabled(settings.env, env=env):
        worker = AlertWorker(parse_alerts_config({}), alerts_service.outbox(store), enabled=False)
        return LiveAlertWorker(worker, store, file=path, version=0)
    with store.read() as conn:
        source, config = effective_config(conn, path)
    if not config.channels:
        if source.origin == "api":
            where = f"the alerts config stored through the API (v{source.version}) has none"
        elif path.exists():
            where = f"{path} has no `channels:`"
        else:
            where = f"{path} does not exist"
        raise ConfigurationError(
            f"ENABLE_ALERTS is on but no alert channel is configured ({where}); add one "
            "(docs/alerts.md), point PHASED_ALERTS_CONFIG at your file, or set ENABLE_ALERTS=false",
            field="alerts_config",
        )
    worker = AlertWorker(config, alerts_service.outbox(store), enabled=True)
    return LiveAlertWorker(worker, store, file=path, version=source.version)


class AlertDelivery:
    """Runs an :class:`AlertWorker` on its own daemon thread until stopped."""

    def __init__(self, worker: AlertWorker | LiveAlertWorker, *, poll_seconds: float = 1.0) -> None:
        self.worker = worker
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start delivering (failing passes are logged and retried by the worker)."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.worker.run_forever,
            args=(self._stop,),
            kwargs={"poll_seconds": self.poll_seconds},
            name="phased-alerts",
            daemon=True,
        )
        self._thread.start()
        log.info("alert_delivery_started", channels=sorted(self.worker.channels))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None


class EngineHost:
    """Leader election plus the loops the leader runs, each on a daemon thread."""

    def __init__(
        self,
        tick: Tick | None = None,
        *,
        extra: list[Tick] | None = None,
        lock: LeaderLock | None = None,
        alerts: AlertDelivery | None = None,
    ) -> None:
        self.tick = tick
        self.alerts = alerts
        self.extra = list(extra or [])
        self.lock = lock
        self.election: LeaderElection | None = None
        self._state: ServerState | None = None
        self._stop_loop = threading.Event()
        self._loop: threading.Thread | None = None

    async def start(self, state: ServerState) -> None:
        """Start competing for leadership (only with an engine: ``--no-engine`` never leads)."""
        self._state = state
        if self.tick is None:
            # A replica without the engine must not hold the lock, or an `engine run`
            # elsewhere would refuse and no engine would run at all (docs/operations.md).
            state.leader = False
            state.metrics.leader.set(0)
            log.info("engine_disabled", leader=False)
            if self.alerts is not None:
                self.alerts.start()
            return
        lock = self.lock or lock_for(state.store)
        self.election = LeaderElection(
            lock, self._on_change, poll_seconds=state.settings.leader_poll_seconds
        )
        # The first round runs before the server accepts requests, so a lone
        # process reports itself the leader from its first health check on.
        await run_in_threadpool(self.election.round)
        self.election.start()
        if self.alerts is not None:
            self.alerts.start()

    def _on_change(self, leading: bool) -> None:
        state = self._state
        assert state is not None
        state.leader = leading
        state.metrics.leader.set(1 if leading else 0)
        if leading:
            self._stop_loop.clear()
            self._loop = threading.Thread(
                target=self._run, args=(state,), name="phased-engine", daemon=True
            )
            self._loop.start()
        else:
            self._stop_loop.set()
            if self._loop is not None and self._loop is not threading.current_thread():
                self._loop.join(timeout=30)
            self._loop = None

    def _run(self, state: ServerState) -> None:
        ticks = [t for t in (self.tick, *self.extra) if t is not None]
        interval = state.settings.engine_interval_seconds
        while not self._stop_loop.is_set():
            for tick in ticks:
                if self._stop_loop.is_set():
                    break
                try:
                    tick(state.store)
                except Exception as exc:
                    log.error("engine_tick_failed", error=f"{type(exc).__name__}: {exc}")
            self._stop_loop.wait(interval)

    async def stop(self) -> None:
        """Stop the loops and alert delivery, and give leadership up."""
        if self.alerts is not None:
            await run_in_threadpool(self.alerts.stop)
        if self.election is not None:
            await run_in_threadpool(self.election.stop)
