"""Outcome ingest: idempotent per batch id, merged per window; totals per arm, stage and time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.core.rollout_state import StageRun
from phased.errors import ValidationError
from phased.service import outcomes
from phased.store.engine import Store

from .rollout_fixtures import aggregate

EXAMPLES = itertools.count()
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def key(
    arm: Arm = Arm.CANDIDATE, stage: str = "canary", at: datetime = T0, flag: str = "f"
) -> OutcomeKey:
    return OutcomeKey(flag, "prod", arm, stage, slot_of(at.timestamp()))


class TestIngest:
    """A retried batch is never counted twice; windows from many senders merge."""

    def test_same_batch_id_counts_once(self, store: Store) -> None:
        windows = [(key(), aggregate(10, 2))]
        assert not outcomes.ingest(store, "b-1", windows).duplicate
        assert outcomes.ingest(store, "b-1", windows).duplicate
        total = outcomes.read_totals(store, "f", "prod")[Arm.CANDIDATE]
        assert (total.requests, total.errors) == (10, 2)

    def test_windows_merge_across_batches(self, store: Store) -> None:
        outcomes.ingest(store, "b-1", [(key(), aggregate(10, 2, latency_ms=100))])
        outcomes.ingest(store, "b-2", [(key(), aggregate(30, 0, latency_ms=300))])
        with store.read() as conn:
            rows = conn.exec_driver_sql("SELECT requests, errors FROM outcome_windows").all()
        assert [tuple(r) for r in rows] == [(40, 2)]
        total = outcomes.read_totals(store, "f", "prod")[Arm.CANDIDATE]
        assert total.latency.quantile(0.5) == pytest.approx(300, rel=0.02)

    @pytest.mark.parametrize(
        ("batch_id", "windows", "message"),
        [
            ("bad id!", [], "batch_id"),
            ("b", [(key(flag=""), Aggregate())], "flag and environment must be 1-64"),
        ],
    )
    def test_bad_input_stores_nothing(
        self, store: Store, batch_id: str, windows: list[tuple[OutcomeKey, Aggregate]], message: str
    ) -> None:
        before = store.dump()
        with pytest.raises(ValidationError, match=message):
            outcomes.ingest(store, batch_id, windows)
        assert store.dump() == before

    @settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        sizes=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 3)), min_size=1, max_size=6),
        split=st.integers(1, 6),
        data=st.data(),
    )
    def test_totals_do_not_depend_on_batching(
        self, store: Store, sizes: list[tuple[int, int]], split: int, data: st.DataObject
    ) -> None:
        flag = f"f{next(EXAMPLES)}"  # every example writes its own flag
        windows = [
            (
                key(stage="s", at=T0 + timedelta(seconds=10 * (i % 3)), flag=flag),
                aggregate(n, min(e, n)),
            )
            for i, (n, e) in enumerate(sizes)
        ]
        order = data.draw(st.permutations(windows))
        for start in range(0, len(order), split):
            batch = order[start : start + split]
            outcomes.ingest(store, f"{flag}-{start}", batch)
            outcomes.ingest(store, f"{flag}-{start}", batch)  # a retry changes nothing
        total = outcomes.read_totals(store, flag, "prod")[Arm.CANDIDATE]
        assert total.requests == sum(n for n, _ in sizes)
        assert total.errors == sum(min(e, n) for n, e in sizes)


class TestTotals:
    """The engine reads each stage run's windows: its stage (or unlabelled) and its time."""

    def test_run_outcomes(self, store: Store) -> None:
        later = T0 + timedelta(minutes=30)
        outcomes.ingest(store, "a", [
            (key(stage="canary", at=T0), aggregate(5)),
            (key(stage="", at=T0), aggregate(7)),
            (key(stage="half", at=T0), aggregate(100)),
            (key(stage="canary", at=later), aggregate(1000)),
            (key(Arm.CONTROL, stage="canary", at=T0), aggregate(50, 5)),
        ])  # fmt: skip
        run = StageRun(
            stage="canary", environment="prod", started_at=T0, ended_at=T0 + timedelta(minutes=10)
        )
        with store.read() as conn:
            measured = outcomes.run_outcomes(conn, "f", run, T0 + timedelta(hours=1))
        assert measured.candidate.requests == 12
        assert (measured.control.requests, measured.control.errors) == (50, 5)
        assert measured.elapsed_seconds == 600
