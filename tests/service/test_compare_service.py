"""Mismatch samples in the store: kept bounded, listed, resolved (audited) so they stop counting."""

from __future__ import annotations

import time

import pytest

from phased import Client
from phased.core.compare import DeprecationPhase
from phased.core.outcomes import MISMATCH_METRIC, Aggregate, Arm, OutcomeKey, metric_value, slot_of
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.migrate.deprecation import Deprecation
from phased.service import audit, outcomes
from phased.service import compare as service
from phased.service import plan_rollouts as pr
from phased.store.engine import Store
from phased.testing import FrozenClock

from .rollout_fixtures import seed_people

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: parallel
    audience: 20
    compare: shadow
    deprecate: warn
    gates:
      - {metric: mismatch_rate, at_most: 0.001, confidence: 0.95}
  - name: full
    audience: 100
    compare: new
    deprecate: redirect
"""


def sample(n: int = 0) -> dict[str, object]:
    return {"flag": "awf_bundle", "environment": "prod", "stage": "parallel", "mode": "shadow",
            "context": {"user": f"issue-{n}", "password": "hunter22"}, "old": ["bug"],
            "new": ["bug", "dup"], "diff": ['+ [1]: "dup"']}  # fmt: skip


def feed(store: Store, clock: FrozenClock, mismatches: int, comparisons: int) -> None:
    agg = Aggregate()
    for i in range(comparisons):
        agg.record(metrics={MISMATCH_METRIC: 1.0 if i < mismatches else 0.0})
    key = OutcomeKey("awf_bundle", "prod", Arm.CANDIDATE, "parallel", slot_of(clock.now))
    outcomes.ingest(store, f"b-{clock.now}", [(key, agg)])


def candidate(store: Store) -> Aggregate:
    with store.read() as conn:
        return outcomes.totals(conn, "awf_bundle", "prod")[Arm.CANDIDATE]


class TestSamples:
    """Samples are redacted again, newest first, and bounded per flag."""

    def test_record_list_and_bound(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(service, "MAX_SAMPLES_PER_FLAG", 2)
        ids = [service.record_mismatch(store, sample(i)) for i in range(3)]
        kept = service.list_mismatches(store, "awf_bundle")
        assert [m.id for m in kept] == ids[:0:-1]
        assert kept[0].context == {"user": "issue-2", "password": "***er22"}
        assert kept[0].diff == ['+ [1]: "dup"']

    def test_bad_sample(self, store: Store) -> None:
        with pytest.raises(ValidationError, match="needs flag, environment and a mode"):
            service.record_mismatch(store, {"flag": "x", "environment": "prod", "mode": "both"})


class TestResolve:
    """'New behaviour is correct': audited, and the mismatch leaves the gate's count."""

    def test_resolution_stops_counting(self, store: Store, clock: FrozenClock) -> None:
        seed_people(store)
        feed(store, clock, mismatches=2, comparisons=10)
        first = service.record_mismatch(store, sample(1))
        done = service.resolve_mismatch(store, actor="pat", mismatch_id=first,
                                        note="new pipeline also labels duplicates")  # fmt: skip
        assert (done.resolved, done.resolved_by) == (True, "pat")
        cand = candidate(store)
        assert metric_value("mismatch_rate", cand) == pytest.approx(0.1)
        assert metric_value("comparisons", cand) == 10
        entry = audit.recent(store, action="compare.resolve")[0]
        assert (entry.actor, entry.details["mismatch"]) == ("pat", first)
        assert service.list_mismatches(store, "awf_bundle") == []
        assert len(service.list_mismatches(store, "awf_bundle", include_resolved=True)) == 1

    def test_refusals_change_nothing(self, store: Store) -> None:
        first = service.record_mismatch(store, sample())
        before = store.dump()
        with pytest.raises(ValidationError, match="note: say why"):
            service.resolve_mismatch(store, actor="pat", mismatch_id=first, note=" ")
        with pytest.raises(NotFoundError, match="no mismatch 999"):
            service.resolve_mismatch(store, actor="pat", mismatch_id=999, note="x")
        assert store.dump() == before
        service.resolve_mismatch(store, actor="pat", mismatch_id=first, note="ok")
        with pytest.raises(ConflictError, match="resolved by pat already"):
            service.resolve_mismatch(store, actor="pia", mismatch_id=first, note="again")


class TestStageModes:
    """The stage in force names the mode; Client.local follows it and keeps samples in the store."""

    def test_client_local_end_to_end(self, store: Store, database_url: str) -> None:
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=PLAN)
        rollout, decision = pr.preview(store, "awf_bundle")
        pr.apply_decision(store, rollout.id, rollout.version, decision)
        assert service.active_modes(store, "prod") == {"awf_bundle": "shadow"}
        assert service.deprecation_phases(store, "prod") == {"awf_bundle": "warn"}
        client = Client.local(database_url=database_url, environment="prod", env={},
                              poll_interval=0.05)  # fmt: skip
        try:
            assert client.compare_modes == {"awf_bundle": "shadow"}
            old_cmd = Deprecation(client, "awf_bundle", old="process-issues", new="pipeline")
            assert old_cmd.phase is DeprecationPhase.WARN
            user = next(
                f"u{i}" for i in range(500) if client.is_enabled("awf_bundle", user=f"u{i}")
            )
            out = client.compare("awf_bundle", old=lambda: "old", new=lambda: "new", user=user)
            assert out == "old"
            assert client.comparisons.drain()
            deadline = time.monotonic() + 10
            while not service.list_mismatches(store, "awf_bundle") and time.monotonic() < deadline:
                time.sleep(0.02)
            (kept,) = service.list_mismatches(store, "awf_bundle")
            assert (kept.old, kept.new, kept.stage, kept.mode) == (
                "old",
                "new",
                "parallel",
                "shadow",
            )
        finally:
            client.close()
