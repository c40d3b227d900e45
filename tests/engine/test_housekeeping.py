"""Engine housekeeping: outcome batch ids are forgotten after the retention, hourly."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from phased.core.outcomes import Arm, OutcomeKey, slot_of
from phased.engine.loop import Engine, reconcile_once
from phased.service import outcomes
from phased.store.engine import Store
from phased.store.tables_rollouts import outcome_batches
from phased.testing import FrozenClock
from service.rollout_fixtures import aggregate

DAY = 86_400


def _send(store: Store, clock: FrozenClock, batch_id: str) -> bool:
    """Ingest one window under ``batch_id``; True when it was counted (not a known retry)."""
    key = OutcomeKey("f", "prod", Arm.CANDIDATE, "canary", slot_of(clock.now))
    return not outcomes.ingest(store, batch_id, [(key, aggregate(3))]).duplicate


def _remembered(store: Store) -> list[str]:
    with store.read() as conn:
        return sorted(conn.execute(select(outcome_batches.c.id)).scalars())


class TestForgetBatches:
    """Batch ids older than the retention are dropped; younger ones still stop retries."""

    def test_old_ids_go_recent_ones_stay(self, store: Store, clock: FrozenClock) -> None:
        assert _send(store, clock, "old")
        clock.advance(6 * DAY)
        assert _send(store, clock, "recent")
        clock.advance(DAY + 60)
        Engine(store, batch_retention=timedelta(days=7)).run_once()
        assert _remembered(store) == ["recent"]
        assert not _send(store, clock, "recent")  # a retry of a remembered batch is ignored

    def test_retention_is_a_setting(self, store: Store, clock: FrozenClock) -> None:
        assert _send(store, clock, "a")
        clock.advance(2 * DAY)
        Engine(store, batch_retention=timedelta(days=7)).run_once()
        assert _remembered(store) == ["a"]
        Engine(store, batch_retention=timedelta(days=1)).run_once()
        assert _remembered(store) == []

    def test_at_most_hourly(self, store: Store, clock: FrozenClock) -> None:
        engine = Engine(store, batch_retention=timedelta(hours=1))
        assert _send(store, clock, "a")
        engine.run_once()  # the first pass always cleans up
        clock.advance(3_000)
        assert _send(store, clock, "b")
        clock.advance(1_000)  # "a" is past the retention, but the last clean-up was 67 min ago
        engine.run_once()
        assert _remembered(store) == ["b"]
        clock.advance(1_200)  # "b" is 37 min old, 20 min since the last clean-up
        engine.run_once()
        assert _remembered(store) == ["b"]

    def test_the_servers_pass_keeps_its_schedule(self, store: Store, clock: FrozenClock) -> None:
        # phased serve calls reconcile_once every few seconds: one DELETE an hour, not a pass.
        assert _send(store, clock, "a")
        clock.advance(7 * DAY - 600)
        reconcile_once(store)  # cleans up; "a" is not 7 days old yet
        clock.advance(1_200)
        reconcile_once(store)  # "a" is now, but the last clean-up was 20 minutes ago
        assert _remembered(store) == ["a"]
        clock.advance(3_600)
        reconcile_once(store)
        assert _remembered(store) == []
