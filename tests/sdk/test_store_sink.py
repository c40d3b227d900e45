"""StoreSink: outcome windows into the embedded store, never counted twice when retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phased.core.outcomes import Arm
from phased.sdk.client import Client
from phased.sdk.store_sink import StoreSink, follow_stages
from phased.service import flags, outcomes, plan_rollouts
from phased.service.members import add_member
from phased.store.engine import Store
from phased.testing import FrozenClock

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - {name: canary, audience: 100}
"""


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    flags.create_flag(store, actor="seed", key="awf_bundle")
    made = Client(environment="prod", sink=StoreSink(store), flush_interval=3600)
    made.tracker.clock = clock
    yield made
    made.close()


class TestStoreSink:
    """What the application tracked is what the store holds, exactly once."""

    def test_tracked_outcomes_reach_the_store(self, store: Store, client: Client) -> None:
        for i in range(10):
            with client.track("awf_bundle", user=f"u{i}") as t:
                if i < 3:
                    t.error()
        client.close()
        total = outcomes.read_totals(store, "awf_bundle", "prod")[Arm.CONTROL]
        assert (total.requests, total.errors) == (10, 3)

    def test_a_commit_whose_answer_was_lost_is_not_counted_twice(
        self, store: Store, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = outcomes.ingest
        calls: list[str] = []

        def lossy(s: Store, batch_id: str, windows: list) -> outcomes.IngestResult:  # type: ignore[type-arg]
            result = real(s, batch_id, windows)
            calls.append(batch_id)
            if len(calls) == 1:
                raise ConnectionError("connection dropped during COMMIT")
            return result

        monkeypatch.setattr(outcomes, "ingest", lossy)
        client.record("awf_bundle", arm="candidate", latency_ms=5, error=True)
        assert client.tracker.flush(everything=True) == 0  # failed: kept for a retry
        client.record("awf_bundle", arm="control", latency_ms=5)
        assert client.tracker.flush(everything=True) == 2
        totals = outcomes.read_totals(store, "awf_bundle", "prod")
        assert totals[Arm.CANDIDATE].requests == 1
        assert totals[Arm.CONTROL].requests == 1
        assert calls[0] == calls[1]  # the retried window kept its batch id


class TestFollowStages:
    """Outcomes are labelled with the stage in force, and the label goes when the rollout ends."""

    def test_labels_follow_the_rollout(self, store: Store, client: Client) -> None:
        follow_stages(client, store)
        assert client.stages == {}
        add_member(store, actor="root", name="root", roles=["admin"])
        plan_rollouts.apply_plan(store, actor="alice", text=PLAN)
        client.update(flags.load_flagset(store, "prod"))
        assert client.stages == {"awf_bundle": "canary"}
        from phased.service.rollout_controls import rollback_rollout

        rollback_rollout(store, actor="ops", flag="awf_bundle", reason="test")
        client.update(flags.load_flagset(store, "prod"))
        assert client.stages == {}

    def test_an_unreadable_store_keeps_the_labels(self, client: Client) -> None:
        def broken() -> Store:
            raise ConnectionError("down")

        client.stages["x"] = "canary"
        follow_stages(client, broken)
        client.update(client.flagset)
        assert client.stages == {"x": "canary"}
