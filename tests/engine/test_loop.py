"""The reconcile loop: decide about every going rollout and hand each decision to the service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from phased.engine.clock import VirtualClock
from phased.engine.loop import Engine, reconcile_once
from phased.obs.slo import Breach, SloMonitor
from phased.service import audit, flags
from phased.service import plan_rollouts as pr
from phased.store import repository
from phased.store.engine import Store, open_store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock
from service.rollout_fixtures import PLAN, feed, seed_people


@pytest.fixture
def going(store: Store) -> Store:
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


def prod_rollout(store: Store, flag: str = "awf_bundle") -> float:
    return flags.get_flag(store, flag).flag.environments["prod"].rollout


class TestRunOnce:
    """One pass decides about each going rollout; it writes only through the service."""

    def test_rollback_on_a_breach(self, going: Store, clock: FrozenClock) -> None:
        clock.advance(60)
        feed(going, clock, candidate=(200, 100))
        report = Engine(going).run_once()
        assert [(o.flag, o.decision, o.acted) for o in report.outcomes] == [
            ("awf_bundle", "rollback", True)
        ]
        assert prod_rollout(going) == 0.0
        entry = audit.recent(going, entity="rollout:awf_bundle")[0]
        assert (entry.actor, entry.action) == ("engine", "rollout.rollback")
        assert reconcile_once(going).outcomes == []

    def test_dry_run_records_and_acts_on_nothing(self, going: Store, clock: FrozenClock) -> None:
        clock.advance(60)
        feed(going, clock, candidate=(200, 100))
        before = [e.id for e in audit.recent(going)]
        report = Engine(going, dry_run=True).run_once()
        assert report.outcomes[0].decision == "rollback"
        assert report.outcomes[0].dry_run
        assert not report.acted
        assert prod_rollout(going) == 5.0
        assert Outbox(going.engine).list() == []
        assert [e.id for e in audit.recent(going)] == before
        last = pr.rollout_history(going, "awf_bundle")[-1]
        assert last.dry_run
        assert last.reason.startswith("[dry run] would rollback")
        assert last.alerts[0]["sent"] is False

    def test_one_broken_rollout_does_not_stop_the_others(
        self, going: Store, clock: FrozenClock
    ) -> None:
        flags.create_flag(going, actor="seed", key="other")
        pr.apply_plan(going, actor="alice", text=PLAN.replace("awf_bundle", "other"))
        # The service refuses to delete a flag whose rollout is going (issue 9); a
        # store damaged from outside (or by an older phased) can still lack it.
        with going.write() as conn:
            repository.delete_flag(conn, "awf_bundle", 1)
        clock.advance(60)
        feed(going, clock, flag="other", candidate=(200, 100))
        report = Engine(going).run_once()
        assert [o.flag for o in report.outcomes] == ["other"]
        assert "no flag 'awf_bundle'" in report.errors[0]
        assert prod_rollout(going, "other") == 0.0

    def test_alert_delivery_failure_never_stops_the_engine(self, going: Store) -> None:
        def deliver() -> None:
            raise ConnectionError("discord unreachable")

        engine = Engine(going, deliver=deliver)
        assert engine.run(interval=0.001, max_passes=3) == 3
        assert "alert delivery failed: ConnectionError" in engine.run_once().errors[0]

    def test_breaches_reach_slo_hooks_once_per_transition(
        self, going: Store, clock: FrozenClock
    ) -> None:
        seen: list[Breach] = []
        monitor = SloMonitor(slos=())
        monitor.on_breach(seen.append)
        engine = Engine(going, slo=monitor)
        clock.advance(60)
        feed(going, clock, candidate=(200, 50), retries=1)  # retry_rate 1.0 > 0.5: pause
        engine.run_once()
        clock.advance(60)
        engine.run_once()
        assert [(b.slo, b.value, b.threshold, b.stage) for b in seen] == [
            ("retry_rate > 0.5", 1.0, 0.5, "canary-5"),
            ("error_rate < 0.05", 0.25, 0.05, "canary-5"),
        ]
        assert pr.get_rollout(going, "awf_bundle").phase == "paused"


class TestRunLoop:
    """The loop runs on a virtual clock: time moves by the interval between passes."""

    @pytest.fixture
    def virtual(self, sqlite_url: str) -> Iterator[tuple[Store, VirtualClock]]:
        clock = VirtualClock(datetime(2026, 11, 1, tzinfo=UTC))
        with open_store(sqlite_url, environments=("dev", "staging", "prod"), clock=clock) as s:
            yield s, clock

    def test_passes_advance_virtual_time(self, virtual: tuple[Store, VirtualClock]) -> None:
        store, clock = virtual
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=PLAN)
        reports: list[int] = []
        passes = Engine(store, clock=clock).run(
            interval=600, max_passes=4, on_pass=lambda r: reports.append(len(r.outcomes))
        )
        assert passes == 4
        assert reports == [1, 1, 1, 1]
        assert clock.now() == datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
