"""The leader lock: something at most one process can hold, kept by the database.

On PostgreSQL, replicas share one database and compete for a session-level
advisory lock held on a dedicated connection. The lock lives exactly as long
as that connection: when the holder dies, the database drops the connection
and the lock with it. On SQLite, an exclusive ``flock`` on a file beside the
database plays the same role for processes on one host (normally there is one).

:class:`phased.engine.leader.LeaderElection` competes for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from phased.store.engine import Store

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


def lock_for(store: Store) -> LeaderLock:
    """The right lock for the store's database."""
    engine = store.engine
    if engine.dialect.name == "postgresql":
        return PostgresLock(engine)
    database = make_url(str(engine.url)).database or "phased.db"
    return FileLock(Path(database).expanduser().resolve().with_suffix(".leader"))
