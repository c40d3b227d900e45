"""Shared pieces of the rollout tests: a small plan, people, and outcomes fed into the store."""

from __future__ import annotations

import itertools
from typing import Any

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.service import flags, members, outcomes
from phased.store.engine import Store
from phased.testing import FrozenClock

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary-5
    audience: 5
    min_duration: 1h
    min_samples: 100
    gates:
      - {metric: error_rate, below: 0.05}
  - name: half
    audience: 50
    min_duration: 1h
    approval: {roles: pm}
    checklist: [no open P0/P1 bugs]
  - name: full
    audience: 100
rollback:
  - {metric: error_rate, above: 0.2}
  - {metric: retry_rate, above: 0.5, severity: warning}
incidents: {P0: rollback, P1: pause}
"""

_batches = itertools.count(1)


def seed_people(store: Store) -> None:
    """``awf_bundle`` off everywhere; root (admin), pat and pia (pm), dev (developer)."""
    flags.create_flag(store, actor="seed", key="awf_bundle")
    members.add_member(store, actor="root", name="root", roles=["admin"])
    members.add_member(store, actor="root", name="pat", roles=["pm"])
    members.add_member(store, actor="root", name="pia", roles=["pm"])
    members.add_member(store, actor="root", name="dev", roles=["developer"])


def aggregate(requests: int, errors: int = 0, *, latency_ms: float = 100.0, **kw: Any) -> Aggregate:
    """``requests`` outcomes, the first ``errors`` of them failed."""
    agg = Aggregate()
    for i in range(requests):
        agg.record(latency_ms=latency_ms, error=i < errors, user=f"u{i}", **kw)
    return agg


def feed(
    store: Store,
    clock: FrozenClock,
    *,
    stage: str = "canary-5",
    candidate: tuple[int, int] = (0, 0),
    control: tuple[int, int] = (0, 0),
    flag: str = "awf_bundle",
    environment: str = "prod",
    **kw: Any,
) -> None:
    """Store one batch of outcomes at the clock's current slot: (requests, errors) per arm."""
    windows = []
    for arm, (n, e) in ((Arm.CANDIDATE, candidate), (Arm.CONTROL, control)):
        if n:
            key = OutcomeKey(flag, environment, arm, stage, slot_of(clock.now))
            windows.append((key, aggregate(n, e, **kw)))
    outcomes.ingest(store, f"test-{next(_batches)}", windows)
