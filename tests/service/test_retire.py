"""Retiring a flag: prerequisites said one by one, refused until they hold, then permanent."""

from __future__ import annotations

from pathlib import Path

import pytest

from phased.errors import ConflictError
from phased.migrate.refs import find_refs
from phased.service import audit, flags
from phased.service import plan_rollouts as pr
from phased.service.golden_runs import report
from phased.service.retire import check, retire, stale
from phased.store.engine import Store
from phased.testing import FrozenClock

from .rollout_fixtures import feed, seed_people

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: full
    audience: 100
"""
DAY = 86_400


def complete(store: Store) -> None:
    seed_people(store)
    for env in ("dev", "staging"):
        flags.set_enabled(store, actor="t", key="awf_bundle", environment=env, enabled=True)
        flags.set_default(store, actor="t", key="awf_bundle", environment=env, value="on")
    pr.apply_plan(store, actor="alice", text=PLAN)
    for _ in range(3):
        rollout, decision = pr.preview(store, "awf_bundle")
        if rollout.state.phase.is_terminal:
            break
        pr.apply_decision(store, rollout.id, rollout.version, decision)


def holds(store: Store, **kw: object) -> dict[str, bool]:
    return {p.name: p.holds for p in check(store, "awf_bundle", **kw)}  # type: ignore[arg-type]


class TestPrerequisites:
    """Each prerequisite says whether it holds; together they gate the retirement."""

    def test_a_fresh_flag_holds_almost_nothing(self, store: Store) -> None:
        seed_people(store)
        found = {p.name: p for p in check(store, "awf_bundle")}
        assert not found["full"].holds
        assert "prod: the kill switch is engaged" in found["full"].detail
        assert not found["gates"].holds
        assert not found["goldens"].holds
        assert found["old_path_unused"].holds
        assert found["code"].detail.startswith("not checked")

    def test_all_hold_after_the_soak(self, store: Store, clock: FrozenClock) -> None:
        complete(store)
        report(
            store,
            actor="ci",
            suite="awf",
            build="v1",
            mode="test",
            passed=True,
            counts={},
            failures=[],
            flag="awf_bundle",
        )
        feed(store, clock, stage="full", control=(50, 0))  # the old path still ran today
        assert holds(store, code_refs=0) == {
            "full": False,
            "gates": True,
            "goldens": True,
            "old_path_unused": False,
            "code": True,
        }
        clock.advance(8 * DAY)
        assert all(holds(store, code_refs=0).values())

    def test_refused_with_reasons_then_retired(self, store: Store, clock: FrozenClock) -> None:
        complete(store)
        before = store.dump()
        with pytest.raises(ConflictError, match=r"cannot retire 'awf_bundle' yet: full: .*goldens"):
            retire(store, actor="pat", key="awf_bundle", code_refs=0)
        assert store.dump() == before
        report(
            store,
            actor="ci",
            suite="awf",
            build="v1",
            mode="test",
            passed=True,
            counts={},
            failures=[],
            flag="awf_bundle",
        )
        clock.advance(8 * DAY)
        done = retire(store, actor="pat", key="awf_bundle", code_refs=0)
        assert (done.retired, done.forced, done.value) == (True, False, True)
        actions = [e.action for e in audit.recent(store, entity="flag:awf_bundle", limit=3)]
        assert actions[1] == "flag.retire"
        assert "awf_bundle" not in {s.flag.key for s in flags.list_flags(store)}

    def test_force_is_on_record(self, store: Store) -> None:
        seed_people(store)
        done = retire(store, actor="pat", key="awf_bundle", force=True)
        assert done.forced
        entry = audit.recent(store, action="flag.retire")[0]
        assert entry.details["forced"] is True


class TestStaleAndRefs:
    """Stale flags are listed with a reason; refs finds file:line, skipping noise."""

    def test_stale(self, store: Store, clock: FrozenClock) -> None:
        complete(store)
        assert stale(store, days=30) == []
        clock.advance(31 * DAY)
        (found,) = stale(store, days=30)
        assert found.key == "awf_bundle"
        assert found.reason.startswith("on for everyone in every environment")

    def test_refs(self, tmp_path: Path) -> None:
        (tmp_path / "app.py").write_text("x = 1\nif client.is_enabled('awf_bundle'):\n    pass\n")
        (tmp_path / "deploy.sh").write_text("export AWF_BUNDLE_ON=true\n")
        (tmp_path / "other.py").write_text("awf_bundle_v2 = 3\n")
        (tmp_path / "node_modules").mkdir()
        (tmp_path / "node_modules" / "x.js").write_text("'awf_bundle'\n")
        (tmp_path / "blob.bin").write_bytes(b"\0awf_bundle")
        found = find_refs("awf_bundle", [str(tmp_path)], env_var="AWF_BUNDLE_ON")
        assert [(Path(r.path).name, r.line) for r in found] == [("app.py", 2), ("deploy.sh", 1)]
        assert found[0].text == "if client.is_enabled('awf_bundle'):"
