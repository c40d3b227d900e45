"""Everything one running server holds besides the store: caches, limits, metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from phased.alerts.ratelimit import TokenBucket
from phased.server.auth import Principal, TokenTable
from phased.server.config import ServerSettings
from phased.server.errors import RetryAfterError
from phased.server.metrics import Metrics
from phased.server.sdk_cache import SdkCache
from phased.store.engine import Store


class MutationLimiter:
    """A token bucket per API token: mutations beyond it are answered 429."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, principal: Principal) -> None:
        """Take one mutation from the token's bucket or raise :class:`RetryAfterError`."""
        now = time.monotonic()
        bucket = self._buckets.get(principal.token_id)
        if bucket is None:
            bucket = TokenBucket(rate_per_second=self.rate, burst=self.burst, now=now)
            self._buckets[principal.token_id] = bucket
        wait = bucket.take(now)
        if wait > 0:
            raise RetryAfterError(
                f"token {principal.name!r} made too many changes; retry in {wait:.1f} s "
                f"(limit: {self.rate * 60:g} a minute, bursts of {self.burst})",
                retry_after=wait,
            )


@dataclass(slots=True)
class ServerState:
    """The state of one server process, on ``app.state.phased``."""

    settings: ServerSettings
    store: Store
    tokens: TokenTable
    sdk: SdkCache
    limiter: MutationLimiter
    metrics: Metrics
    revision: int = -1
    leader: bool = False
    started: float = field(default_factory=time.time)
