"""Keep a client's flag set in step with the embedded store.

A daemon thread polls the store revision (one tiny query) and reloads the
environment's flag set only when it moved. Nothing here ever raises into the
application: when the store is unreachable the client keeps evaluating the
last flag set it had (or safe defaults if it never had one) and the thread
keeps trying.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from phased.core.flags import FlagSet

if TYPE_CHECKING:
    from phased.store.engine import Store

log = logging.getLogger("phased.sdk")


class StoreSync:
    """Loads one environment's flag set from a store, now and whenever it changes."""

    def __init__(
        self,
        database_url: str,
        environment: str,
        install: Callable[[FlagSet], None],
        *,
        interval: float = 1.0,
    ) -> None:
        self.database_url = database_url
        self.environment = environment
        self.interval = interval
        self.revision: int | None = None
        self.failures = 0
        self.last_error: str | None = None
        """The last failure, one line (None once the store answered again)."""
        self._install = install
        self._store: Store | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> bool:
        """Reload if the store revision moved; False (never an exception) on failure."""
        try:
            store = self._open()
            current = store.revision()
            if current == self.revision:
                return True
            from phased.service.flags import load_at_revision

            flagset, revision = load_at_revision(store, self.environment)
            self._install(flagset)
            self.revision = revision
            if self.failures:
                log.warning("phased store reachable again at revision %s", revision)
            self.failures = 0
            self.last_error = None
            return True
        except Exception as exc:
            self.failures += 1
            from phased.obs.redact import redact_text

            first = str(exc).splitlines()[0] if str(exc) else ""
            self.last_error = redact_text(f"{type(exc).__name__}: {first}")
            if self.failures == 1:
                log.warning(
                    "phased store unavailable (%s); keeping the last flag set", self.last_error
                )
            return False

    def _open(self) -> Store:
        if self._store is None:
            from phased.store.engine import open_store

            # Applications read; migrating is the control plane's job.
            self._store = open_store(self.database_url, migrate=False)
        return self._store

    def start(self) -> None:
        """Poll in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="phased-store-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def stop(self) -> None:
        """Stop polling and release the connections."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval + 5)
        if self._store is not None:
            self._store.close()
            self._store = None
