"""Leader election: exactly one process runs the engine at a time.

On PostgreSQL, replicas share one database and compete for a session-level
advisory lock held on a dedicated connection. The lock lives exactly as long
as that connection: when the leader dies, the database drops the connection
and the lock with it, and a follower's next attempt (every
``poll_seconds``) succeeds. The leader also checks its connection on every
round, so a leader cut off from the database stops acting at once.

On SQLite, an exclusive ``flock`` on a file beside the database plays the
same role for processes on one host (normally there is one).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from phased.obs.log import get_logger

log = get_logger("phased.engine.leader")

# Any fixed number shared by every replica: the key of the engine's advisory lock.
ENGINE_LOCK_KEY = 7_305_146_502


class LeaderLock(Protocol):
    """Something at most one process can hold."""

    def try_acquire(self) -> bool:
        """Take the lock if free; True if this process holds it now."""

    def still_held(self) -> bool:
        """False once the lock was lost (connection gone)."""

    def release(self) -> None:
        """Give the lock up (idempotent)."""


class PostgresLock:
    """A session advisory lock on a connection kept for that purpose only."""

    def __init__(self, engine: Engine, key: int = ENGINE_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Any = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        conn = self.engine.raw_connection()
        try:
            # Autocommit: an idle-in-transaction session would hold other locks too.
            conn.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor = conn.cursor()
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = cursor.fetchone()
            got = bool(row and row[0])
            cursor.close()
        except Exception:
            conn.invalidate()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            cursor = self._conn.cursor()
            # A session lock lasts as long as its session: a live connection holds it.
            cursor.execute("SELECT 1")
            held = cursor.fetchone() is not None
            cursor.close()
        except Exception:
            held = False
        if not held:
            self._drop()
        return held

    def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            cursor = self._conn.cursor()
            cursor.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            cursor.close()
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # Never hand a connection that held the lock back to the pool.
            with contextlib.suppress(Exception):
                conn.invalidate()


class FileLock:
    """An exclusive ``flock`` on ``path`` (SQLite: processes on one host)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self.path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def lock_for(engine: Engine) -> LeaderLock:
    """The right lock for the store's database."""
    if engine.dialect.name == "postgresql":
        return PostgresLock(engine)
    database = make_url(str(engine.url)).database or "phased.db"
    return FileLock(Path(database).expanduser().resolve().with_suffix(".leader"))


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
