"""Waiting between engine passes, on whichever clock the engine runs.

The clock itself is :mod:`phased.core.clock` (a callable returning an aware
UTC datetime); :class:`VirtualClock` is re-exported here for the engine's
tests and simulations. Only waiting is the engine's own: on the wall clock it
sleeps, and wakes at once when ``stop`` is set; a virtual clock moves by the
whole wait instantly, so a loop on virtual time runs as fast as it decides.
"""

from __future__ import annotations

import threading

from phased.core.clock import Clock, VirtualClock

__all__ = ["VirtualClock", "wait"]


def wait(clock: Clock, seconds: float, stop: threading.Event) -> bool:
    """Let ``seconds`` pass on ``clock`` (or until ``stop`` is set); True when stopped."""
    if isinstance(clock, VirtualClock):
        clock.advance(seconds)
        return stop.is_set()
    return stop.wait(seconds)
