"""``phased plan apply``, ``rollout`` verbs, ``member``, ``incident``, ``slo status``, ``engine run``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import Result

from .conftest import Run

Loads = Callable[[Result], Any]

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary-5
    audience: 5
    checklist: [golden tests pass]
    gates:
      - {metric: latency_p95_ms, below: 8000}
  - name: half
    audience: 50
    approval: {roles: pm}
rollback:
  - {metric: error_rate, above: 0.05}
"""


def ok(result: Result) -> str:
    """Stdout of a successful command, with the terminal's line wrapping undone."""
    assert result.exit_code == 0, result.stderr
    return " ".join(result.stdout.split())


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    return result.stderr


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``engine run`` configures logging for its process; put the defaults back after."""
    yield
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


@pytest.fixture
def plan(run: Run, tmp_path: Path) -> Path:
    """A flag, three members, and the plan file (not applied yet)."""
    ok(run("flag", "create", "awf_bundle", "--actor", "seed"))
    ok(run("member", "add", "root", "--role", "admin", "--actor", "root"))
    ok(run("member", "add", "pat", "--role", "pm", "--actor", "root"))
    ok(run("member", "add", "alice", "--role", "pm", "--role", "developer", "--actor", "root"))
    path = tmp_path / "awf.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


class TestRolloutCommands:
    """A rollout driven from the command line, start to finish."""

    def test_lifecycle(self, run: Run, loads: Loads, plan: Path) -> None:
        out = ok(run("plan", "apply", str(plan), "--actor", "alice"))
        assert "started rollout #1 of awf_bundle" in out
        status = loads(run("rollout", "status", "awf_bundle", json=True))
        assert status["rollout"]["phase"] == "pending"
        assert status["decision"]["waiting_for"][0]["item"] == "golden tests pass"
        ok(run("rollout", "check", "awf_bundle", "--item", "golden tests pass", "--actor", "alice"))
        assert "awf_bundle: advance — start at stage canary-5" in ok(run("engine", "run", "--once"))
        assert "four-eyes" in refused(
            run("rollout", "approve", "awf_bundle", "--stage", "half", "--actor", "alice")
        )
        ok(
            run(
                "rollout", "approve", "awf_bundle", "--stage", "half", "--actor", "pat",
                "--note", "UX reviewed with design",
            )
        )  # fmt: skip
        assert "cannot advance yet" in refused(
            run("rollout", "advance", "awf_bundle", "--actor", "bo")
        )
        assert "needs admin" in refused(
            run("rollout", "advance", "awf_bundle", "--force", "--actor", "pat")
        )
        out = ok(run("rollout", "advance", "awf_bundle", "--force", "--actor", "root"))
        assert "forced by root to stage half" in out
        ok(run("rollout", "pause", "awf_bundle", "--reason", "watching", "--actor", "ops"))
        listing = loads(run("rollout", "status", json=True))
        assert [(r["flag"], r["phase"], r["stage"]) for r in listing] == [
            ("awf_bundle", "paused", "half")
        ]
        ok(run("rollout", "resume", "awf_bundle", "--actor", "ops"))
        ok(run("rollout", "rollback", "awf_bundle", "--reason", "bad UX", "--actor", "ops"))
        history = loads(run("rollout", "history", "awf_bundle", json=True))
        assert [h["kind"] for h in history][-3:] == ["pause", "resume", "rollback"]
        flag = loads(run("flag", "show", "awf_bundle", json=True))
        assert flag["environments"]["prod"]["rollout"] == 0.0
        report = ok(run("rollout", "report", "awf_bundle", "--format", "md"))
        assert "| Status | ❌ rolled back: rolled back by ops at stage half: bad UX |" in report
        assert "| half | pm | pat (pm) |" in report
        assert "| UX reviewed with design |" in report  # the approval's --note (issue 9)
        assert "| canary-5 | golden tests pass | ☑ alice |" in report
        assert "audit chain ok" in ok(run("audit", "verify"))

    def test_older_rollouts_report_and_history(self, run: Run, loads: Loads, plan: Path) -> None:
        """`report KEY --rollout N` and `history KEY --rollout N` show an older rollout (issue 9)."""
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        ok(run("rollout", "rollback", "awf_bundle", "--reason", "first try", "--actor", "ops"))
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        latest = ok(run("rollout", "report", "awf_bundle"))
        assert "(rollout #2)" in latest
        older = ok(run("rollout", "report", "awf_bundle", "--rollout", "1"))
        assert "(rollout #1)" in older
        assert "first try" in older
        kinds = [
            h["kind"]
            for h in loads(run("rollout", "history", "awf_bundle", "--rollout", "1", json=True))
        ]
        assert kinds[-1] == "rollback"
        assert "rollback" not in [
            h["kind"] for h in loads(run("rollout", "history", "awf_bundle", json=True))
        ]
        assert "its rollouts: #1, #2" in refused(
            run("rollout", "report", "awf_bundle", "--rollout", "7")
        )

    def test_env_guard_from_the_environment(self, run: Run, plan: Path) -> None:
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        result = run("rollout", "pause", "awf_bundle", "--actor", "ops", env={"PHASED_ENV": "dev"})
        assert "runs in prod, not 'dev'" in refused(result)
        ok(run("rollout", "pause", "awf_bundle", "--actor", "ops", env={"PHASED_ENV": "prod"}))

    def test_refusals_are_one_line(self, run: Run, plan: Path, tmp_path: Path) -> None:
        assert "no rollout of 'awf_bundle'" in refused(run("rollout", "status", "awf_bundle"))
        bad = tmp_path / "bad.yaml"
        bad.write_text(PLAN.replace("below: 8000", "below: -1"), encoding="utf-8")
        assert "bad.yaml:8: stages[0].gates[0].below" in refused(
            run("plan", "apply", str(bad), "--actor", "alice")
        )
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        assert "already has a rollout in progress" in refused(
            run("plan", "apply", str(plan), "--actor", "alice")
        )
        assert "unknown format 'pdf'" in refused(
            run("rollout", "report", "awf_bundle", "--format", "pdf")
        )

    def test_missing_actor_is_a_usage_error(self, run: Run, plan: Path) -> None:
        result = run("plan", "apply", str(plan))
        assert result.exit_code == 2
        assert "--actor" in result.stderr


class TestPeopleAndIncidents:
    """Members, incidents and SLO status from the command line."""

    def test_members(self, run: Run, loads: Loads, plan: Path) -> None:
        people = loads(run("member", "list", json=True))
        assert [(m["name"], m["roles"]) for m in people] == [
            ("alice", ["pm", "developer"]),
            ("pat", ["pm"]),
            ("root", ["admin"]),
        ]
        assert "to add member 'eve' needs admin" in refused(
            run("member", "add", "eve", "--role", "pm", "--actor", "pat")
        )
        assert "alice: pm" in ok(
            run("member", "remove", "alice", "--role", "developer", "--actor", "root")
        )
        assert "unknown role 'boss'" in refused(
            run("member", "add", "x", "--role", "boss", "--actor", "root")
        )

    def test_p0_incident_rolls_back(self, run: Run, loads: Loads, plan: Path) -> None:
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        ok(run("rollout", "check", "awf_bundle", "--item", "golden tests pass", "--actor", "alice"))
        ok(run("engine", "run", "--once"))
        out = ok(
            run(
                "incident",
                "open",
                "awf_bundle",
                "--severity",
                "P0",
                "--title",
                "down",
                "--actor",
                "oncall",
            )
        )
        assert "opened INC-1 (P0)" in out
        assert "rollback — rolled back at stage canary-5: incident INC-1 P0 (down) is open" in out
        listed = loads(run("incident", "list", json=True))
        assert [(i["id"], i["action"]) for i in listed] == [("INC-1", "rollback")]
        ok(run("incident", "resolve", "INC-1", "--actor", "oncall"))
        assert loads(run("incident", "list", "--open", json=True)) == []
        assert "unknown severity" in refused(
            run("incident", "open", "awf_bundle", "--severity", "P9", "--actor", "oncall")
        )

    def test_slo_status(self, run: Run, loads: Loads, plan: Path) -> None:
        assert "no rollout is going" in ok(run("slo", "status"))
        ok(run("plan", "apply", str(plan), "--actor", "alice"))
        ok(run("rollout", "check", "awf_bundle", "--item", "golden tests pass", "--actor", "alice"))
        ok(run("engine", "run", "--once", "--dry-run"))
        rows = loads(run("slo", "status", "awf_bundle", json=True))
        assert rows == []  # dry run: the engine recorded, the rollout did not start
        ok(run("engine", "run", "--once"))
        rows = loads(run("slo", "status", "awf_bundle", json=True))
        assert {(r["check"], r["verdict"]) for r in rows} == {
            ("error_rate > 0.05", "waiting"),
            ("latency_p95_ms < 8000", "waiting"),
        }
        assert "interval: must be positive" in refused(
            run("engine", "run", "--once", "--interval", "0s")
        )


class TestSetAgain:
    """Setting the percentage it already has says so truthfully (issue 9)."""

    def test_already_so(self, run: Run) -> None:
        assert run("flag", "create", "awf", "--actor", "a").exit_code == 0
        assert run("rollout", "set", "awf", "--percent", "25", "--actor", "a").exit_code == 0
        again = run("rollout", "set", "awf", "--percent", "25", "--actor", "a")
        assert again.exit_code == 0
        assert again.stdout.strip() == "awf in dev: rollout already 25%, nothing written"
