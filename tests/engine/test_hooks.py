"""Stage hooks: given a plan with hooks, when the engine passes, then each hook runs once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phased.core.rollout_state import RolloutPhase
from phased.engine.leader import LeaderElection
from phased.engine.loop import Engine
from phased.service import audit, flags, hook_runs
from phased.service import plan_rollouts as pr
from phased.service import rollout_records as records
from phased.service.rollout_controls import resume_rollout
from phased.store.engine import Store, open_store
from phased.store.leader_lock import lock_for
from phased.store.outbox import Outbox
from sources.conftest import Answer, FakeApp, _serve

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture
def web() -> Iterator[FakeApp]:
    yield from _serve(FakeApp())


def plan(stage_one_hooks: str = "", stage_two_hooks: str = "", checklist: str = "") -> str:
    return (
        "flag: bot_smoke\nenvironment: prod\nstages:\n"
        "  - name: canary\n    audience: 5\n"
        + (f"    hooks:\n{stage_one_hooks}" if stage_one_hooks else "")
        + "  - name: full\n    audience: 100\n"
        + (f"    checklist: [{checklist}]\n" if checklist else "")
        + (f"    hooks:\n{stage_two_hooks}" if stage_two_hooks else "")
    )


def start(store: Store, text: str) -> None:
    flags.create_flag(store, actor="seed", key="bot_smoke")
    pr.apply_plan(store, actor="alice", text=text)


def rollout(store: Store) -> records.Rollout:
    with store.read() as conn:
        return records.require(conn, "bot_smoke", going=False)


def runs(store: Store) -> list[hook_runs.HookRun]:
    with store.read() as conn:
        return list(reversed(hook_runs.history(conn, rollout(store).id)))


def counter(tmp_path: Path, name: str = "ran") -> tuple[Path, str]:
    """A file the hook appends a line to, and a shell command doing it."""
    marker = tmp_path / name
    return marker, f"[sh, -c, 'echo run >> {marker}']"


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


class TestPreStage:
    """pre_stage runs before traffic moves into a stage; failing, it pauses there."""

    def test_passing_hook_lets_the_stage_start(self, store: Store, tmp_path: Path) -> None:
        marker, cmd = counter(tmp_path)
        start(
            store,
            plan(stage_two_hooks=f"      pre_stage:\n        - {{name: smoke, command: {cmd}}}\n"),
        )
        engine = Engine(store)
        # apply_plan started canary; this pass advances to full, running full's pre_stage.
        assert (
            engine.run_once().outcomes[0].decision == "complete"
            or rollout(store).stage.name == "full"
        )
        assert lines(marker) == 1
        [run] = runs(store)
        assert (run.phase, run.status, run.stage, run.hook) == (
            "pre_stage",
            "passed",
            "full",
            "smoke",
        )
        assert run.detail == "exit 0"
        assert [e.action for e in audit.recent(store, action="hook.run")] == ["hook.run"]
        engine.run_once()
        assert lines(marker) == 1  # never again for the same transition

    def test_failing_hook_pauses_with_redacted_bounded_output(
        self, store: Store, tmp_path: Path
    ) -> None:
        secret = "Bearer abcdefgh12345678secret"
        cmd = f"[sh, -c, 'echo {secret}; yes x | head -c 9000; exit 3']"
        start(
            store,
            plan(
                stage_two_hooks=f"      pre_stage:\n        - {{name: smoke, command: {cmd}, retries: 0}}\n"
            ),
        )
        outcome = Engine(store).run_once().outcomes[0]
        assert outcome.decision == "pause"
        assert "pre_stage hook smoke failed" in outcome.reason
        assert "exit 3" in outcome.reason
        r = rollout(store)
        assert (r.stage.name, r.state.phase) == ("canary", RolloutPhase.PAUSED)
        [run] = runs(store)
        assert run.status == "failed"
        assert "abcdefgh12345678secret" not in run.detail
        assert len(run.detail) < 2100
        assert Outbox(store.engine).list()  # the pause alerts people

    def test_a_person_resumes_and_the_hook_runs_again(self, store: Store, tmp_path: Path) -> None:
        marker = tmp_path / "ran"
        cmd = f"[sh, -c, 'echo run >> {marker}; [ $(wc -l < {marker}) -gt 1 ]']"
        start(
            store,
            plan(
                stage_two_hooks=f"      pre_stage:\n        - {{name: smoke, command: {cmd}, retries: 0}}\n"
            ),
        )
        engine = Engine(store)
        assert engine.run_once().outcomes[0].decision == "pause"
        resume_rollout(store, actor="pat", flag="bot_smoke")
        assert engine.run_once().outcomes[0].decision == "advance"
        assert lines(marker) == 2
        assert [r.transition.rsplit(":", 1)[1] for r in runs(store)] == ["1", "2"]

    def test_timeout(self, store: Store) -> None:
        start(
            store,
            plan(
                stage_two_hooks="      pre_stage:\n        - {name: slow, command: [sleep, '5'], timeout: 1s, retries: 0}\n"
            ),
        )
        outcome = Engine(store).run_once().outcomes[0]
        assert outcome.decision == "pause"
        assert "timed out after 1 s" in outcome.reason

    def test_missing_program_at_run_time(self, store: Store) -> None:
        start(
            store,
            plan(
                stage_two_hooks="      pre_stage:\n        - {name: gone, command: [no-such-prog-xyz], retries: 0}\n"
            ),
        )
        outcome = Engine(store).run_once().outcomes[0]
        assert "'no-such-prog-xyz' not found" in outcome.reason


class TestOnlyTheEngineRunsHooks:
    """Moves made outside the engine wait for it when hooks belong to them."""

    def test_first_stage_hooks_run_before_the_rollout_starts(
        self, store: Store, tmp_path: Path
    ) -> None:
        marker, cmd = counter(tmp_path)
        start(
            store,
            plan(stage_one_hooks=f"      pre_stage:\n        - {{name: smoke, command: {cmd}}}\n"),
        )
        r = rollout(store)
        assert r.state.phase is RolloutPhase.PENDING
        last = pr.rollout_history(store, "bot_smoke")[-1]
        assert "waiting for the engine to run the pre_stage hooks of stage canary" in last.reason
        assert flags.get_flag(store, "bot_smoke").flag.environments["prod"].rollout == 0.0
        assert Engine(store).run_once().outcomes[0].decision == "advance"
        assert lines(marker) == 1
        assert rollout(store).state.phase is RolloutPhase.RUNNING

    def test_a_person_s_advance_is_refused_and_force_skips(
        self, store: Store, tmp_path: Path
    ) -> None:
        from phased.errors import ConflictError
        from phased.service import members
        from phased.service.rollout_controls import advance

        marker, cmd = counter(tmp_path)
        start(
            store,
            plan(stage_two_hooks=f"      pre_stage:\n        - {{name: smoke, command: {cmd}}}\n"),
        )
        with pytest.raises(ConflictError, match="pre_stage hooks of stage full run in the engine"):
            advance(store, actor="pat", flag="bot_smoke")
        members.add_member(store, actor="root", name="root", roles=["admin"])
        advance(store, actor="root", flag="bot_smoke", force=True)
        assert rollout(store).stage.name == "full"
        assert lines(marker) == 0


class TestHttpHooks:
    """HTTP hooks: non-2xx fails, with retries; confirm_advance waits and asks again."""

    def test_confirm_advance_waits_until_yes(self, store: Store, web: FakeApp) -> None:
        web.answers["/confirm"] = Answer(status=409, body={"ok": False})
        start(
            store,
            plan(
                stage_one_hooks=f"      confirm_advance:\n        - {{name: ci, url: '{web.url}/confirm', retries: 1}}\n"
            ),
        )
        engine = Engine(store)
        first = engine.run_once().outcomes[0]
        assert first.decision == "hold"
        assert "confirm_advance hook ci failed" in first.reason
        assert "HTTP 409" in first.reason
        assert len([s for s in web.seen if s.path == "/confirm"]) == 2  # 1 + 1 retry
        assert web.seen[-1].body["flag"] == "bot_smoke"
        assert web.seen[-1].body["hook_phase"] == "confirm_advance"
        web.answers["/confirm"] = Answer(status=200, body={"ok": True})
        assert engine.run_once().outcomes[0].decision == "advance"
        [run] = runs(store)
        assert (run.status, run.attempts) == ("passed", 3)

    def test_auth_headers_come_from_the_sources_file(self, store: Store, web: FakeApp) -> None:
        from phased.sources.config import parse_sources_config

        web.answers["/ok"] = Answer(status=200, body={})
        start(
            store,
            plan(
                stage_one_hooks=f"      confirm_advance:\n        - {{name: ci, url: '{web.url}/ok', auth: ci}}\n"
            ),
        )
        sources = parse_sources_config(
            {
                "sources": {
                    "ci": {
                        "kind": "web",
                        "address": web.url,
                        "headers": {"X-Token": "t0ken-abcdef"},
                    }
                }
            }
        )
        assert Engine(store, sources=sources).run_once().outcomes[0].decision == "advance"
        assert web.seen[-1].headers["X-Token"] == "t0ken-abcdef"

    def test_post_stage_runs_once_and_alerts_on_failure(self, store: Store, web: FakeApp) -> None:
        web.answers["/post"] = Answer(status=500, body={"error": "down"})
        start(
            store,
            plan(
                stage_one_hooks=f"      post_stage:\n        - {{name: notify, url: '{web.url}/post', retries: 0}}\n"
            ),
        )
        engine = Engine(store)
        assert engine.run_once().outcomes[0].decision == "advance"
        engine.run_once()
        assert len([s for s in web.seen if s.path == "/post"]) == 1
        [run] = runs(store)
        assert (run.phase, run.status) == ("post_stage", "failed")
        assert any(
            "post_stage hook notify failed" in a.alert.message for a in Outbox(store.engine).list()
        )

    def test_on_rollback(self, store: Store, web: FakeApp) -> None:
        from phased.service.rollout_controls import rollback_rollout

        web.answers["/rb"] = Answer(status=204, body=None)
        text = plan(
            stage_one_hooks=f"      on_rollback:\n        - {{name: page, url: '{web.url}/rb'}}\n"
        )
        text = text.replace("audience: 5\n", "audience: 5\n    min_duration: 1h\n", 1)
        text += "rollback:\n  - {metric: lambda_duration_s, source: prom, query: q, above: 30}\n"
        start(store, text)
        from phased.core.measured import Measurement
        from phased.sources.config import SourcesConfig
        from phased.sources.measure import SourceMeasurer

        class Prom:
            kind = "prometheus"
            name = "prom"

            def query(self, request: object) -> float:
                return 45.0

        engine = Engine(
            store, sources=SourceMeasurer(SourcesConfig(), store=store, sources={"prom": Prom()})
        )
        assert engine.run_once().outcomes[0].decision == "rollback"
        assert [s.path for s in web.seen] == ["/rb"]
        [run] = runs(store)
        assert (run.phase, run.status, run.stage) == ("on_rollback", "passed", "canary")
        del rollback_rollout, Measurement


class TestChecklist:
    """A hook's result ticks a checklist item, with the hook as the actor and its output as evidence."""

    def test_hook_ticks_the_item_then_the_stage_starts(self, store: Store, tmp_path: Path) -> None:
        marker, cmd = counter(tmp_path)
        item = "Run bot-smoke CI on PR"
        start(
            store,
            plan(
                stage_two_hooks=f"      pre_stage:\n        - {{name: ci, command: {cmd}, checklist: {item}}}\n",
                checklist=item,
            ),
        )
        engine = Engine(store)
        assert engine.run_once().outcomes[0].decision == "skipped"
        r = rollout(store)
        [check] = r.state.checks
        assert (check.item, check.actor) == (item, "hook:ci")
        assert (
            engine.run_once().outcomes[0].decision == "complete"
            or rollout(store).stage.name == "full"
        )
        assert lines(marker) == 1
        hook_audit = audit.recent(store, action="hook.run")[0]
        assert hook_audit.details["status"] == "passed"


ENGINE_SCRIPT = """
import sys
from phased.engine.loop import Engine
from phased.store.engine import open_store
store = open_store(sys.argv[1], environments=("dev", "staging", "prod"))
Engine(store).run_once()
"""


class TestNeverTwice:
    """Kill the leader mid-hook: the next leader does not run the hook again."""

    def test_kill_the_leader_mid_hook(self, database_url: str, tmp_path: Path) -> None:
        store = open_store(database_url, environments=ENVIRONMENTS)
        try:
            marker = tmp_path / "ran"
            # The first run hangs (the leader is killed meanwhile); a later one passes at once.
            cmd = f"[sh, -c, 'echo run >> {marker}; [ $(wc -l < {marker}) -gt 1 ] || sleep 60']"
            start(
                store,
                plan(
                    stage_one_hooks="",
                    stage_two_hooks=f"      pre_stage:\n        - {{name: load, command: {cmd}, timeout: 2m, retries: 0}}\n",
                ),
            )
            leader = subprocess.Popen(
                [sys.executable, "-c", ENGINE_SCRIPT, database_url],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            deadline = time.monotonic() + 60
            while lines(marker) < 1:
                assert leader.poll() is None, "the engine ended before its hook started"
                assert time.monotonic() < deadline, "the hook never started"
                time.sleep(0.05)
            os.killpg(leader.pid, signal.SIGKILL)  # the engine and its hook, mid-hook
            leader.wait()
            election = LeaderElection(lock_for(store), lambda _: None)
            assert election.round()  # the dead leader's lock is free
            try:
                outcome = Engine(store).run_once().outcomes[0]
            finally:
                election.stop()
            assert outcome.decision == "pause"
            assert "interrupted" in outcome.reason
            assert "not run again" in outcome.reason
            assert lines(marker) == 1
            [run] = runs(store)
            assert run.status == "interrupted"
            resume_rollout(store, actor="pat", flag="bot_smoke")
            assert Engine(store).run_once().outcomes[0].decision == "advance"
            assert lines(marker) == 2
        finally:
            store.close()


class TestStatusAndLog:
    """Hook results appear in `rollout status` (the preview) and `phased hooks log`."""

    def test_status_and_log(self, store: Store, tmp_path: Path) -> None:
        from typer.testing import CliRunner

        from phased.cli.main import app

        start(
            store,
            plan(
                stage_two_hooks="      pre_stage:\n        - {name: smoke, command: [sh, -c, 'echo nope; exit 1'], retries: 0}\n"
            ),
        )
        Engine(store).run_once()
        _r, preview = pr.preview(store, "bot_smoke")
        [hook] = [e for e in preview.evaluations if e.metric == "hook"]
        assert (hook.label, hook.verdict.value) == ("pre_stage hook smoke", "fail")
        assert "exit 1: nope" in hook.reason
        out = CliRunner().invoke(app, ["hooks", "log", "bot_smoke", "--db", store.url])
        assert out.exit_code == 0, out.output
        assert "full pre_stage smoke: failed after 1 attempt(s) — exit 1: nope" in out.output
