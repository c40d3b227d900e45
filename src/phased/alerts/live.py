"""An alert worker that follows the configuration stored through the API.

Each pass first reads the stored document's version (one small query); when
it moved, the configuration in force is loaded again and the worker
reconfigured before delivering, so ``PUT /api/v1/alerts/config`` reaches the
worker of every replica within one poll interval, without a restart. A
document that cannot be used here (an unset ``${VAR}`` on this host, say) is
logged once per version and the worker keeps the configuration it had:
delivery never stops because of a bad edit.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from phased.alerts.stored import effective_config
from phased.alerts.worker import AlertWorker, Channel, RunReport
from phased.errors import PhasedError
from phased.obs.log import get_logger
from phased.store.alerts_config import stored_version
from phased.store.engine import Store

log = get_logger("phased.alerts")


class LiveAlertWorker:
    """Wraps an :class:`AlertWorker`; reloads its configuration when the stored version changes.

    Args:
        worker: the worker, built from the configuration in force at ``version``.
        store: the store whose ``alerts_config`` the worker follows.
        file: the alerts file, which applies while nothing is stored.
        version: the stored version ``worker`` was built from (0: none stored).
        environ: where ``${VAR}`` references are read (the process environment by default).
    """

    def __init__(
        self,
        worker: AlertWorker,
        store: Store,
        *,
        file: Path | None,
        version: int,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.worker = worker
        self.store = store
        self.file = file
        self.version = version
        self.environ = environ
        self._refused: int | None = None
        self._lock = threading.Lock()

    @property
    def channels(self) -> dict[str, Channel]:
        """The channels in force."""
        return self.worker.channels

    def refresh(self) -> bool:
        """Reload when the stored version moved; True when the worker was reconfigured."""
        with self._lock:
            with self.store.read() as conn:
                version = stored_version(conn)
                if version in (self.version, self._refused):
                    return False
                try:
                    _, config = effective_config(conn, self.file, environ=self.environ)
                    self.worker.reconfigure(config)
                except PhasedError as exc:
                    self._refused = version
                    log.error(
                        "alerts config not applied; keeping the previous one",
                        version=version,
                        error=str(exc),
                    )
                    return False
            self.version = version
            self._refused = None
            log.info("alerts config reloaded", version=version, channels=sorted(self.channels))
            return True

    def run_once(self) -> RunReport:
        """Refresh, then deliver every due alert once."""
        if self.worker.enabled:
            self.refresh()
        return self.worker.run_once()

    def drain(self, max_passes: int = 100) -> RunReport:
        """Refresh, then run passes until one touches nothing."""
        if self.worker.enabled:
            self.refresh()
        return self.worker.drain(max_passes)

    def run_forever(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Loop until ``stop`` is set; a failing pass is logged, never fatal."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # the loop must outlive a broken store connection
                log.exception("alert worker pass failed")
            stop.wait(poll_seconds)
