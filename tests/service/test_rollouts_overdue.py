"""A stage stuck past its max_duration is alerted again at an interval; other alerts once."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from phased.alerts.queue import QueuedAlert
from phased.engine.loop import Engine
from phased.service import plan_rollouts as pr
from phased.service.rollout_alerts import realert_interval
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, feed, seed_people

STUCK = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary
    audience: 5
    min_duration: 10m
    max_duration: {max_duration}
    min_samples: 100
  - name: full
    audience: 100
"""


def _alerts(store: Store, rule_prefix: str) -> list[QueuedAlert]:
    found = [q for q in Outbox(store.engine).list(limit=1000) if q.alert.rule]
    return sorted(
        (q for q in found if (q.alert.rule or "").startswith(rule_prefix)), key=lambda q: q.id
    )


def _run_minutes(store: Store, clock: FrozenClock, minutes: int) -> None:
    engine = Engine(store)
    for _ in range(minutes):
        clock.advance(60)
        engine.run_once()


class TestRealertInterval:
    """A quarter of max_duration, never more often than every 5 minutes nor rarer than hourly."""

    @pytest.mark.parametrize(
        ("max_duration", "interval"),
        [
            (timedelta(hours=1), timedelta(minutes=15)),
            (timedelta(minutes=8), timedelta(minutes=5)),
            (timedelta(days=2), timedelta(hours=1)),
            (timedelta(hours=2), timedelta(minutes=30)),
        ],
    )
    def test_interval(self, max_duration: timedelta, interval: timedelta) -> None:
        assert realert_interval(max_duration) == interval


class TestOverdueAlerts:
    """Past max_duration: one alert at once, then one every interval, all in one alert group."""

    def test_resent_every_quarter_of_max_duration(self, store: Store, clock: FrozenClock) -> None:
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=STUCK.format(max_duration="1h"))
        _run_minutes(store, clock, 59)
        assert _alerts(store, "overdue:") == []
        _run_minutes(store, clock, 121)  # until 3 h into the stage
        sent = _alerts(store, "overdue:")
        gaps = [
            (b.created_at - a.created_at) / timedelta(minutes=1)
            for a, b in itertools.pairwise(sent)
        ]
        assert len(sent) == 9  # at 60, 75, ..., 180 minutes
        assert gaps == [15.0] * 8
        assert {q.alert.group_key for q in sent} == {"awf_bundle|awf_bundle#1|overdue:canary"}
        assert "has run 1h" in sent[0].alert.message
        assert "has run 3h" in sent[-1].alert.message

    def test_a_new_stage_run_starts_afresh(self, store: Store, clock: FrozenClock) -> None:
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=STUCK.format(max_duration="1h"))
        _run_minutes(store, clock, 70)
        assert len(_alerts(store, "overdue:")) == 1
        feed(store, clock, stage="canary", candidate=(150, 0))
        _run_minutes(store, clock, 5)  # enough samples: the stage advances; nothing overdue
        assert pr.get_rollout(store, "awf_bundle").stage.name == "full"
        assert len(_alerts(store, "overdue:")) == 1

    def test_dry_run_plan_sends_none(self, store: Store, clock: FrozenClock) -> None:
        seed_people(store)
        text = STUCK.format(max_duration="1h") + "mode: dry_run\n"
        pr.apply_plan(store, actor="alice", text=text)
        _run_minutes(store, clock, 120)
        assert _alerts(store, "overdue:") == []


class TestOtherAlertsStayOnce:
    """Waiting for an approval is alerted once per stage run, however long it waits."""

    def test_waiting_is_not_repeated(self, store: Store, clock: FrozenClock) -> None:
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=PLAN)
        clock.advance(60)
        feed(store, clock, candidate=(200, 0))
        _run_minutes(store, clock, 240)
        waiting = _alerts(store, "waiting:")
        assert [q.alert.rule for q in waiting] == ["waiting:half"]
        assert "approval by pm" in waiting[0].alert.message  # names the roles that must act
        assert waiting[0].alert.links == {"rollout page": "/ui/rollouts/awf_bundle"}
