"""Leader election: exactly one process runs the engine at a time.

On PostgreSQL, replicas share one database and compete for a session-level
advisory lock held on a dedicated connection. The lock lives exactly as long
as that connection: when the leader dies, the database drops the connection
and the lock with it, and a follower's next attempt (every
``poll_seconds``) succeeds. The leader also checks its connection on every
round, so a leader cut off from the database stops acting at once.

On SQLite, an exclusive ``flock`` on a file beside the database plays the
same role for processes on one host (normally there is one). The locks
themselves are the store's (:mod:`phased.store.leader_lock`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from phased.obs.log import get_logger
from phased.store.leader_lock import LeaderLock

log = get_logger("phased.engine.leader")


class LeaderElection:
    """A daemon thread that takes the lock when free and reports changes.

    ``on_change(True)`` is called when this process becomes the leader,
    ``on_change(False)`` when it stops being one (lost lock or shutdown).
    """

    def __init__(
        self,
        lock: LeaderLock,
        on_change: Callable[[bool], None],
        *,
        poll_seconds: float = 2.0,
    ) -> None:
        self.lock = lock
        self.on_change = on_change
        self.poll_seconds = poll_seconds
        self.is_leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start competing (returns at once)."""
        self._thread = threading.Thread(target=self._run, name="phased-leader", daemon=True)
        self._thread.start()

    def _set(self, leading: bool) -> None:
        if leading != self.is_leader:
            self.is_leader = leading
            log.info("leadership_changed", leader=leading, pid=os.getpid())
            self.on_change(leading)

    def round(self) -> bool:
        """One attempt: take or confirm the lock; returns whether this process leads."""
        try:
            leading = self.lock.still_held() if self.is_leader else self.lock.try_acquire()
        except Exception as exc:
            log.warning("leader_lock_failed", error=f"{type(exc).__name__}: {exc}")
            leading = False
        self._set(leading)
        return leading

    def _run(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.poll_seconds)

    def stop(self) -> None:
        """Stop competing and give the lock up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._set(False)
        self.lock.release()
