"""DEMO TRAFFIC — synthetic outcomes so a newcomer sees a rollout move.

Only with ``phased serve --demo-traffic`` in the ``dev`` environment. Every
batch it writes has an id starting ``demo-`` and is logged as demo traffic,
so nobody mistakes it for measurements: never enable it against a store
whose rollouts matter.
"""

from __future__ import annotations

import random
import time
import uuid

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.obs.log import get_logger
from phased.store.engine import Store

log = get_logger("phased.server.demo")


class DemoTraffic:
    """Healthy synthetic requests for every running rollout, one batch per tick."""

    def __init__(self, requests_per_tick: int = 60, *, seed: int | None = None) -> None:
        self.requests_per_tick = requests_per_tick
        self.random = random.Random(seed)

    def tick(self, store: Store) -> None:
        """Write one batch of demo outcomes (both arms) for each running rollout."""
        from phased.service import outcomes, plan_rollouts

        slot = slot_of(time.time())
        windows = []
        for rollout in plan_rollouts.list_rollouts(store, active_only=True):
            if rollout.state.stage_started_at is None:
                continue
            for arm, share in ((Arm.CANDIDATE, 0.3), (Arm.CONTROL, 0.7)):
                agg = Aggregate()
                for i in range(int(self.requests_per_tick * share)):
                    agg.record(
                        latency_ms=self.random.lognormvariate(4.8, 0.5),
                        error=self.random.random() < 0.005,
                        user=f"demo-user-{self.random.randrange(5000)}-{i}",
                    )
                key = OutcomeKey(
                    rollout.flag, rollout.stage_environment, arm, rollout.stage.name, slot
                )
                windows.append((key, agg))
        if windows:
            batch = f"demo-{uuid.uuid4().hex}"
            outcomes.ingest(store, batch, windows)
            log.info("demo_traffic", batch_id=batch, windows=len(windows), demo=True)
