"""Golden runs as stage evidence: a pass ticks the stage's golden item, a failure blocks it."""

from __future__ import annotations

import pytest

from phased.core.stage_entry import entry_waiting
from phased.errors import NotFoundError, ValidationError
from phased.service import audit
from phased.service import plan_rollouts as pr
from phased.service.golden_runs import get_run, list_runs, report
from phased.store.engine import Store
from phased.testing import FrozenClock

from .rollout_fixtures import PLAN, seed_people

GOLDEN_PLAN = PLAN.replace(
    "    audience: 5\n", "    audience: 5\n    golden: [awf-goldens]\n", 1
).replace("    audience: 50\n", "    audience: 50\n    golden: [awf-goldens]\n", 1)


@pytest.fixture
def going(store: Store) -> Store:
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=GOLDEN_PLAN)
    return store


def waiting(store: Store) -> list[str]:
    rollout, _ = pr.preview(store, "awf_bundle")
    index = 0 if rollout.state.stage_started_at is None else rollout.state.stage + 1
    return [w.detail for w in entry_waiting(rollout.plan, index, rollout.state)]


def run(store: Store, passed: bool, build: str = "v1.5.0") -> int:
    done = report(
        store, actor="ci", suite="awf-goldens", build=build, mode="test", passed=passed,
        counts={"scenarios": 1, "passed": int(passed)},
        failures=[] if passed else ["g.json:6: s turns[0] choicesAtMost: 6 > 5"],
        flag="awf_bundle",
    )  # fmt: skip
    return done.id


class TestGoldenEvidence:
    """The first stage waits for a passing run; a failing one withdraws an earlier pass."""

    def test_pass_ticks_with_evidence_and_the_stage_starts(
        self, going: Store, clock: FrozenClock
    ) -> None:
        assert waiting(going) == [
            "golden run of 'awf-goldens' passing (phased golden test ... --report awf-goldens)"
        ]
        run(going, passed=False)
        assert len(waiting(going)) == 1
        run_id = run(going, passed=True)
        assert waiting(going) == []
        rollout, decision = pr.preview(going, "awf_bundle")
        tick = next(c for c in rollout.state.checks if c.item == "golden: awf-goldens")
        assert (tick.stage, tick.actor, tick.evidence) == ("canary-5", "ci", f"golden-run:{run_id}")
        done = pr.apply_decision(going, rollout.id, rollout.version, decision)
        assert done.rollout.state.stage_started_at is not None
        # the next stage needs a fresh run: evidence is per stage
        assert "golden run of 'awf-goldens'" in " ".join(waiting(going))

    def test_a_failing_run_withdraws_the_tick(self, going: Store) -> None:
        run(going, passed=True)
        assert waiting(going) == []
        failed = run(going, passed=False, build="v1.5.1")
        assert len(waiting(going)) == 1
        record = get_run(going, failed)
        assert (record.passed, record.build, record.ticked) == (False, "v1.5.1", "canary-5")
        assert record.failures == ["g.json:6: s turns[0] choicesAtMost: 6 > 5"]
        entries = audit.recent(going, action="golden.report")
        assert [e.details["passed"] for e in entries] == [False, True]
        assert entries[0].entity == "golden:awf-goldens"
        assert [r.id for r in list_runs(going, suite="awf-goldens")] == [failed, failed - 1]

    def test_without_a_flag_it_is_only_recorded(self, store: Store) -> None:
        done = report(store, actor="ci", suite="s", build="abc123", mode="verify", passed=True,
                      counts={}, failures=[])  # fmt: skip
        assert (done.flag, done.ticked, done.evidence) == (None, None, f"golden-run:{done.id}")


class TestGoldenReportRefusals:
    """Bad reports change nothing."""

    @pytest.mark.parametrize(
        ("kw", "message"),
        [
            ({"build": " "}, "build: the build or version the run tested is required"),
            ({"suite": "Bad Suite"}, "suite: invalid golden suite"),
            ({"mode": "replay"}, "mode: must be record, verify or test"),
            ({"flag": "nope"}, "flag: no rollout of 'nope'"),
        ],
    )
    def test_refused(self, going: Store, kw: dict[str, str], message: str) -> None:
        before = going.dump()
        args = {"suite": "awf-goldens", "build": "v1", "mode": "test", "flag": "awf_bundle"} | kw
        with pytest.raises((ValidationError, NotFoundError)) as info:
            report(going, actor="ci", passed=True, counts={}, failures=[], **args)  # type: ignore[arg-type]
        assert str(info.value).startswith(message)
        assert going.dump() == before
