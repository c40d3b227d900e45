"""Outcome rollups: a stage run's sealed rollup plus its recent windows equal reading them all."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from phased.core.gates import Observations
from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.core.rollout_state import StageRun
from phased.engine.loop import Engine
from phased.service import outcomes, rollups
from phased.service import plan_rollouts as pr
from phased.store.engine import Store
from phased.store.tables_rollups import outcome_rollups
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, feed, seed_people

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FLAGS = itertools.count()
BATCHES = itertools.count()


def _rollout(store: Store) -> int:
    seed_people(store)
    return pr.apply_plan(store, actor="alice", text=PLAN).rollout.id


def _observed(obs: Observations) -> list[tuple[str, dict[str, object], dict[str, object], float]]:
    runs = [*obs.earlier, *([obs.current] if obs.current is not None else [])]
    return [(r.stage, r.candidate.to_dict(), r.control.to_dict(), r.elapsed_seconds) for r in runs]


def _both_ways(
    store: Store, rollout_id: int, flag: str, runs: list[StageRun], now: datetime
) -> tuple[object, object]:
    with store.read() as conn:
        full = outcomes.observations(conn, flag, runs, now)
        rolled = outcomes.observations(conn, flag, runs, now, rollout_id=rollout_id)
    return _observed(rolled), _observed(full)


window = st.fixed_dictionaries(
    {
        "slot": st.integers(0, 120),  # slots after T0
        "arrives": st.integers(0, 900),  # seconds after its slot ends
        "arm": st.sampled_from(list(Arm)),
        "label": st.sampled_from(["a", "b", "", "other"]),
        "requests": st.integers(0, 30),
        "error_share": st.integers(0, 4),
        # multiples of 1/64 add exactly, so the merge order cannot change the sum
        "cost": st.integers(0, 256).map(lambda n: n / 64),
        "latency": st.floats(1.0, 5_000.0),
        "user": st.integers(0, 700),
    }
)


def _aggregate(w: dict[str, int | float | str]) -> Aggregate:
    agg = Aggregate()
    n = int(w["requests"])
    for i in range(n):
        agg.record(
            latency_ms=float(w["latency"]) * (1 + i % 3),
            error=i % 5 < int(w["error_share"]),
            cost_usd=float(w["cost"]),
            user=f"u{int(w['user']) + i * 37}",
            metrics={"accuracy": float(i % 4) / 4},
            # units repeat across windows, so rollups must add their records, not list them
            unit=None if w["label"] == "other" else f"u{(int(w['user']) + i) % 60}",
        )
    return agg


class TestRollupEqualsFullRead:
    """For any windows, arrival times, lateness and pass times, rollup + recent == full merge."""

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        windows=st.lists(window, max_size=40),
        bounds=st.lists(st.integers(1, 119), min_size=0, max_size=2, unique=True).map(sorted),
        open_run=st.booleans(),
        lateness=st.integers(0, 600),
        passes=st.lists(st.integers(0, 1_800), min_size=1, max_size=6).map(sorted),
    )
    def test_any_history(
        self,
        store: Store,
        *,
        windows: list[dict[str, int | float | str]],
        bounds: list[int],
        open_run: bool,
        lateness: int,
        passes: list[int],
    ) -> None:
        going = pr.list_rollouts(store)  # the fixture's store is shared by every example
        rollout_id = going[0].id if going else _rollout(store)
        with store.write() as conn:
            conn.execute(delete(outcome_rollups))
        flag = f"p{next(FLAGS)}"
        # Consecutive runs a, b, a, ... from T0 split at `bounds` slots; the last may be open.
        edges = [T0 + timedelta(seconds=10 * b + 3) for b in bounds]
        starts, ends = [T0, *edges], [*edges, T0 + timedelta(seconds=1_300)]
        runs = [
            StageRun(stage="ab"[i % 2], environment="prod", started_at=s, ended_at=e)
            for i, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]
        if open_run:
            runs[-1] = runs[-1].model_copy(update={"ended_at": None})
        base = slot_of(T0.timestamp())
        arrivals = [
            (
                T0 + timedelta(seconds=10 * (int(w["slot"]) + 1) + int(w["arrives"])),
                OutcomeKey(flag, "prod", Arm(w["arm"]), str(w["label"]), base + int(w["slot"])),
                _aggregate(w),
            )
            for w in windows
        ]
        arrivals.sort(key=lambda arrival: arrival[0])
        pending = list(arrivals)
        for offset in passes:
            now = T0 + timedelta(seconds=offset)
            due = [(k, a) for at, k, a in pending if at <= now]
            pending = [p for p in pending if p[0] > now]
            if due:
                outcomes.ingest(store, f"p-{next(BATCHES)}", due)
            rollups.seal(
                store, [(rollout_id, flag, runs)], now, lateness=timedelta(seconds=lateness)
            )
            rolled, full = _both_ways(store, rollout_id, flag, runs, now)
            assert rolled == full


def _rollup_rows(store: Store) -> list[tuple[int, str, int, int]]:
    r = outcome_rollups.c
    with store.read() as conn:
        rows = conn.execute(
            select(r.run, r.arm, r.sealed_slot, r.requests).order_by(r.run, r.arm)
        ).all()
    return [(row.run, row.arm, row.sealed_slot, row.requests) for row in rows]


class TestEngineRollups:
    """The engine seals what is older than the lateness horizon and judges exactly the same."""

    def test_a_pass_seals_up_to_the_horizon(self, store: Store, clock: FrozenClock) -> None:
        _rollout(store)
        for _ in range(60):  # ten minutes of windows
            feed(store, clock, candidate=(10, 0), control=(20, 1))
            clock.advance(10)
        Engine(store, rollup_lateness=timedelta(minutes=5)).run_once()
        horizon = slot_of(clock.now - 300)
        rows = _rollup_rows(store)
        assert [(run, arm, sealed) for run, arm, sealed, _ in rows] == [
            (0, "candidate", horizon - 1),
            (0, "control", horizon - 1),
        ]
        # Windows from the start of the run to the horizon: 300 s of 10-s slots, one batch each.
        assert rows[0][3] == 10 * (horizon - slot_of(clock.now - 600))

    def test_decisions_match_reading_every_window(self, store: Store, clock: FrozenClock) -> None:
        rollout_id = _rollout(store)
        for _ in range(90):
            feed(store, clock, candidate=(10, 0), control=(20, 1))
            clock.advance(10)
        sealed = Engine(store, rollup_lateness=timedelta(seconds=30)).run_once()
        full = Engine(store, rollup_lateness=None).run_once()
        assert [o.reason for o in sealed.outcomes] == [o.reason for o in full.outcomes]
        rollout = pr.get_rollout(store, "awf_bundle")
        now = clock.datetime()
        rolled, everything = _both_ways(store, rollout_id, "awf_bundle", rollout.state.runs, now)
        assert rolled == everything

    def test_a_batch_arriving_after_its_slot_was_sealed_is_counted(
        self, store: Store, clock: FrozenClock
    ) -> None:
        _rollout(store)
        for _ in range(60):
            feed(store, clock, candidate=(10, 0))
            clock.advance(10)
        engine = Engine(store, rollup_lateness=timedelta(minutes=1))
        engine.run_once()
        before = _rollup_rows(store)[0][3]
        late = OutcomeKey("awf_bundle", "prod", Arm.CANDIDATE, "canary-5", slot_of(clock.now - 500))
        outcomes.ingest(store, "late-1", [(late, Aggregate.merged([_aggregate_of(7)]))])
        assert _rollup_rows(store)[0][3] == before + 7
        rollout = pr.get_rollout(store, "awf_bundle")
        with store.read() as conn:
            obs = outcomes.observations(
                conn, "awf_bundle", rollout.state.runs, clock.datetime(), rollout_id=rollout.id
            )
        assert obs.current is not None
        assert obs.current.candidate.requests == 600 + 7

    def test_no_rollups_without_lateness(self, store: Store, clock: FrozenClock) -> None:
        _rollout(store)
        feed(store, clock, candidate=(10, 0))
        clock.advance(3_600)
        Engine(store, rollup_lateness=None).run_once()
        with store.read() as conn:
            assert conn.execute(select(func.count()).select_from(outcome_rollups)).scalar() == 0

    @pytest.mark.parametrize("chunk", [5])
    def test_catching_up_in_chunks(
        self, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, chunk: int
    ) -> None:
        # A week-long stage is sealed in several short write transactions, not one long one.
        monkeypatch.setattr(rollups, "SEAL_CHUNK_SLOTS", chunk)
        _rollout(store)
        for _ in range(30):
            feed(store, clock, candidate=(3, 1))
            clock.advance(10)
        rollout = pr.get_rollout(store, "awf_bundle")
        report = rollups.seal(
            store,
            [(rollout.id, rollout.flag, rollout.state.runs)],
            clock.datetime(),
            lateness=timedelta(0),
        )
        assert report.runs == 1
        assert report.windows == 30
        assert _rollup_rows(store)[0][3] == 90


def _aggregate_of(requests: int) -> Aggregate:
    agg = Aggregate()
    for _ in range(requests):
        agg.record(latency_ms=50.0)
    return agg
