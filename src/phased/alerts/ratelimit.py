"""Per-channel token buckets, paused by a server's own ``retry_after``."""

from __future__ import annotations

import threading


class TokenBucket:
    """``burst`` tokens, refilled at ``rate_per_second``; time is passed in (seconds)."""

    def __init__(self, *, rate_per_second: float, burst: int, now: float = 0.0) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now
        self._paused_until = now
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when granted, else the seconds until one will be."""
        with self._lock:
            if now < self._paused_until:
                return self._paused_until - now
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def pause_until(self, until: float) -> None:
        """Grant nothing before ``until`` (a 429's retry_after), then one token at a time."""
        with self._lock:
            if until > self._paused_until:
                self._paused_until = until
                # One request when the server said we may, no burst on top of it.
                self._tokens = 1.0
                self._updated = until
