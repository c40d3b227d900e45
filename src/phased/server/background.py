"""Work that runs beside the HTTP server: leader election and the engine loop.

Every replica competes for leadership; only the leader runs the reconcile
loop (and, in dev with ``demo_traffic``, the demo traffic generator), so two
replicas never decide about the same rollout at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from phased.engine.leader import LeaderElection, LeaderLock, lock_for
from phased.obs.log import get_logger
from phased.server.state import ServerState
from phased.store.engine import Store

log = get_logger("phased.server.engine")

Tick = Callable[[Store], Any]


def default_tick() -> Tick | None:
    """The engine's reconcile pass, when the engine package provides one."""
    try:
        from phased.engine.loop import reconcile_once
    except ImportError:
        return None
    return reconcile_once


class EngineHost:
    """Leader election plus the loops the leader runs, each on a daemon thread."""

    def __init__(
        self,
        tick: Tick | None = None,
        *,
        extra: list[Tick] | None = None,
        lock: LeaderLock | None = None,
    ) -> None:
        self.tick = tick
        self.extra = list(extra or [])
        self.lock = lock
        self.election: LeaderElection | None = None
        self._state: ServerState | None = None
        self._stop_loop = threading.Event()
        self._loop: threading.Thread | None = None

    async def start(self, state: ServerState) -> None:
        """Start competing for leadership."""
        self._state = state
        lock = self.lock or lock_for(state.store.engine)
        self.election = LeaderElection(
            lock, self._on_change, poll_seconds=state.settings.leader_poll_seconds
        )
        # The first round runs before the server accepts requests, so a lone
        # process reports itself the leader from its first health check on.
        await run_in_threadpool(self.election.round)
        self.election.start()

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
        """Stop the loops and give leadership up."""
        if self.election is not None:
            await run_in_threadpool(self.election.stop)
