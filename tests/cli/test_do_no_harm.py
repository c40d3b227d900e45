"""Issue 9's reproductions, as a new user runs them: no change to who gets a feature unless asked.

Each class is one reproduction of the issue; each failed before its fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from phased.cli.main import app
from phased.service import golden_runs
from phased.store import open_store

Run = Callable[..., Result]
REPO = Path(__file__).parents[2]

FLAGS = str(REPO / "examples" / "flags.yaml")
PLANS = REPO / "examples" / "plans"


def _golden_passed(db: str) -> None:
    """A passing golden run of awf-goldens: the evidence awf-phase7's canary-5 waits for."""
    store = open_store(db)
    try:
        golden_runs.report(
            store,
            actor="bob",
            suite="awf-goldens",
            build="test",
            mode="test",
            passed=True,
            counts={"scenarios": 1},
            failures=[],
            flag="awf_bundle",
        )
    finally:
        store.close()


def _bare(*args: str, env: dict[str, str] | None = None) -> Result:
    """A command that takes no ``--db`` (``plan validate``)."""
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def _prod(loads: Callable[[Any], Any], run: Run, key: str) -> dict[str, Any]:
    flag = loads(run("flag", "show", key, json=True))
    state: dict[str, Any] = flag["environments"]["prod"]
    return state


class TestUnknownEnvironment:
    """Reproduction 12: an unknown environment in a plan fails `plan validate` with file and line."""

    def test_stage_environment(self, run: Run, tmp_path: Path) -> None:
        """A stage in `moon` is refused by validate, naming file, line and field."""
        plan = tmp_path / "moon.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: prod\nstages:\n"
            "  - name: one\n    environment: moon\n    audience: 5\n"
        )
        result = _bare("plan", "validate", str(plan))
        assert result.exit_code == 1
        assert f"{plan}:5" in result.stderr
        assert "stages[0].environment" in result.stderr
        assert "'moon'" in result.stderr
        assert "dev, staging, prod" in result.stderr

    def test_plan_environment(self, run: Run, tmp_path: Path) -> None:
        """The plan's own `environment: moon` points at its line."""
        plan = tmp_path / "moon.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: moon\nstages:\n  - {name: one, audience: 5}\n"
        )
        result = _bare("plan", "validate", str(plan))
        assert result.exit_code == 1
        assert f"{plan}:2" in result.stderr
        assert "environment: unknown environment 'moon'" in result.stderr

    def test_settings_environments(self, run: Run, tmp_path: Path) -> None:
        """An environment PHASED_ENVIRONMENTS declares is known."""
        plan = tmp_path / "moon.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: moon\nstages:\n  - {name: one, audience: 5}\n"
        )
        result = _bare(
            "plan", "validate", str(plan), env={"PHASED_ENVIRONMENTS": '["dev", "moon"]'}
        )
        assert result.exit_code == 0, result.stderr

    def test_apply_names_file_and_line(self, run: Run, tmp_path: Path) -> None:
        """`plan apply` refuses the same plan with its file and line too."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        plan = tmp_path / "moon.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: moon\nstages:\n  - {name: one, audience: 5}\n"
        )
        result = run("plan", "apply", str(plan), "--actor", "alice")
        assert result.exit_code == 1
        assert f"{plan}:2" in result.stderr


class TestRoundTrip:
    """Reproduction 3: `flags export` then `flags apply` of the same file changes nothing."""

    def test_export_apply_is_identity(
        self, run: Run, dump: Callable[[], dict[str, Any]], tmp_path: Path
    ) -> None:
        """Exported whole, applied back: no change, kill switches stay engaged."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        assert run("flag", "create", "killed_one", "--actor", "ci").exit_code == 0
        out = tmp_path / "f.yaml"
        assert run("flags", "export", "-o", str(out)).exit_code == 0
        before = dump()
        dry = run("flags", "apply", str(out), "--dry-run")
        assert dry.exit_code == 0, dry.stderr
        assert "no changes" in dry.stdout, dry.stdout
        assert run("flags", "apply", str(out), "--actor", "ci").exit_code == 0
        assert dump()["flags"] == before["flags"]

    def test_export_one_env_apply(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """The README's `export --env prod` then apply: dev and staging are not released."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        assert run("flag", "create", "killed_one", "--actor", "ci").exit_code == 0
        out = tmp_path / "f.yaml"
        assert run("flags", "export", "--env", "prod", "-o", str(out)).exit_code == 0
        dry = run("flags", "apply", str(out), "--dry-run")
        assert "environments.dev.enabled" not in dry.stdout, dry.stdout
        assert run("flags", "apply", str(out), "--actor", "ci").exit_code == 0
        flag = loads(run("flag", "show", "killed_one", json=True))
        assert [flag["environments"][e]["enabled"] for e in ("dev", "staging", "prod")] == [
            False,
            False,
            False,
        ]

    def test_dry_run_counts_what_it_lists(self, run: Run, tmp_path: Path) -> None:
        """The dry run's count is the number of lines it lists."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        edited = tmp_path / "f.yaml"
        text = Path(FLAGS).read_text().replace("rollout: 25", "rollout: 30")
        text = text.replace("staging: {rollout: 100}", "staging: {rollout: 90}")
        edited.write_text(text)
        dry = run("flags", "apply", str(edited), "--dry-run")
        listed = [line for line in dry.stdout.splitlines() if line[:1] in "+-~"]
        assert len(listed) == 2, dry.stdout
        assert "dry run: 2 changes not applied" in dry.stdout


class TestInitialState:
    """Reproduction 8: one rule for new flags, from a file and from the CLI."""

    def test_cli_flag_starts_killed(self, run: Run, loads: Callable[[Any], Any]) -> None:
        """`flag create` engages the kill switch in every environment."""
        assert run("flag", "create", "fresh", "--actor", "ci").exit_code == 0
        flag = loads(run("flag", "show", "fresh", json=True))
        assert {s["enabled"] for s in flag["environments"].values()} == {False}

    def test_file_flag_undeclared_environments_start_killed(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """A flag a file creates is killed wherever the file declares no state, like the CLI's."""
        file = tmp_path / "f.yaml"
        file.write_text(
            "flags:\n  fresh:\n    environments:\n      prod: {rollout: 25}\n  bare: {}\n"
        )
        assert run("flags", "apply", str(file), "--actor", "ci").exit_code == 0
        fresh = loads(run("flag", "show", "fresh", json=True))["environments"]
        assert (fresh["dev"]["enabled"], fresh["staging"]["enabled"]) == (False, False)
        assert (fresh["prod"]["enabled"], fresh["prod"]["rollout"]) == (True, 25.0)
        bare = loads(run("flag", "show", "bare", json=True))
        assert {s["enabled"] for s in bare["environments"].values()} == {False}

    def test_state_left_out_is_killed(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """Removing an environment's state from the file kills it there (never "unset": live)."""
        file = tmp_path / "f.yaml"
        file.write_text("flags:\n  fresh:\n    environments:\n      dev: {default: true}\n")
        assert run("flags", "apply", str(file), "--actor", "ci").exit_code == 0
        file.write_text("flags:\n  fresh: {}\n")
        dry = run("flags", "apply", str(file), "--dry-run")
        assert "environments.dev.enabled: true -> false" in dry.stdout, dry.stdout
        assert run("flags", "apply", str(file), "--actor", "ci").exit_code == 0
        assert (
            loads(run("flag", "show", "fresh", json=True))["environments"]["dev"]["enabled"]
            is False
        )

    def test_file_flag_with_enabled_true_is_live(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """An explicit `enabled: true` is honoured."""
        file = tmp_path / "f.yaml"
        file.write_text(
            "flags:\n  fresh:\n    environments:\n      prod: {enabled: true, rollout: 25}\n"
        )
        assert run("flags", "apply", str(file), "--actor", "ci").exit_code == 0
        fresh = loads(run("flag", "show", "fresh", json=True))
        assert fresh["environments"]["prod"]["enabled"] is True
        assert fresh["environments"]["dev"]["enabled"] is False


class TestPlanKeepsTodaysAudience:
    """Reproduction 1: starting a plan never takes the feature away from people who have it."""

    def test_awf_phase7_keeps_25_percent(
        self, run: Run, loads: Callable[[Any], Any], db: str
    ) -> None:
        """The README flow: prod stays at 25 % (not 5 %) when canary-5 starts; overrides stay."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        assert run("member", "add", "ada", "--role", "admin", "--actor", "ci").exit_code == 0
        plan = str(PLANS / "awf-phase7.yaml")
        checked = run("plan", "validate", plan)
        assert checked.exit_code == 0, checked.stderr
        assert "awf_bundle in prod: loses nobody" in checked.stdout
        assert "stays at 25 %" in checked.stdout
        applied = run("plan", "apply", plan, "--actor", "alice")
        assert applied.exit_code == 0, applied.stderr
        assert "keeps" in applied.stdout
        assert "loses nobody" in applied.stdout
        _golden_passed(db)
        assert run("engine", "run", "--once").exit_code == 0
        prod = _prod(loads, run, "awf_bundle")
        assert prod["rollout"] == 25.0
        assert len(prod["overrides"]) == 2
        status = loads(run("rollout", "status", "awf_bundle", json=True))
        assert status["rollout"]["stage"] == "canary-5"

    def test_ux_agent_canary_keeps_admins_and_pms(
        self, run: Run, loads: Callable[[Any], Any]
    ) -> None:
        """Admins and PMs who have ux_updates in prod keep it through the plan's first stages."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        assert run("member", "add", "pam", "--role", "pm", "--actor", "ci").exit_code == 0
        plan = str(PLANS / "ux-agent-canary.yaml")
        applied = run("plan", "apply", plan, "--actor", "alice")
        assert applied.exit_code == 0, applied.stderr
        assert "loses nobody" in applied.stdout
        rules = _prod(loads, run, "ux_updates")["rules"]
        assert {r["segment"] for r in rules} == {"admins", "pms"}

    def test_shrinking_plan_is_refused_then_allowed(
        self, run: Run, loads: Callable[[Any], Any], dump: Callable[[], Any], tmp_path: Path
    ) -> None:
        """An exact plan (allow_shrink) that loses people is shown; --allow-shrink is the door."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        plan = tmp_path / "shrink.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: prod\nstart: {allow_shrink: true}\n"
            "stages:\n  - {name: again-5, audience: 5}\n  - {name: all, audience: 100}\n"
        )
        checked = run("plan", "validate", str(plan))
        assert checked.exit_code == 0, checked.stderr
        assert "loses 20 % of users (25 -> 5 %)" in checked.stdout
        applied = run("plan", "apply", str(plan), "--actor", "alice")
        assert applied.exit_code == 0, applied.stderr
        assert _prod(loads, run, "awf_bundle")["rollout"] == 5.0

    def test_allow_shrink_option(self, run: Run, loads: Callable[[Any], Any], db: str) -> None:
        """`plan apply --allow-shrink` runs the stages exactly (the old behaviour, on purpose)."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        assert run("member", "add", "ada", "--role", "admin", "--actor", "ci").exit_code == 0
        plan = str(PLANS / "awf-phase7.yaml")
        checked = run("plan", "validate", plan, "--allow-shrink")
        assert "loses 20 % of users (25 -> 5 %)" in checked.stdout
        assert run("plan", "apply", plan, "--allow-shrink", "--actor", "alice").exit_code == 0
        _golden_passed(db)
        assert run("engine", "run", "--once").exit_code == 0
        assert _prod(loads, run, "awf_bundle")["rollout"] == 5.0

    def test_plan_that_still_shrinks_is_refused(
        self, run: Run, dump: Callable[[], Any], tmp_path: Path
    ) -> None:
        """A stage that would change admins' variant (wide -> split) is refused, store unchanged."""
        flags = tmp_path / "f.yaml"
        flags.write_text(
            "segments:\n  admins: {where: 'role in [admin]'}\n"
            "flags:\n  look:\n    variants: {narrow: 50, wide: 50}\n    environments:\n"
            "      prod: {rules: [{segment: admins, serve: wide}]}\n"
        )
        assert run("flags", "apply", str(flags), "--actor", "ci").exit_code == 0
        plan = tmp_path / "look.yaml"
        plan.write_text(
            "flag: look\nenvironment: prod\nstages:\n  - {name: admins, audience: {segments: [admins]}}\n"
        )
        checked = run("plan", "validate", str(plan))
        assert checked.exit_code == 1
        assert "start.allow_shrink" in checked.stderr
        before = dump()
        refused = run("plan", "apply", str(plan), "--actor", "alice")
        assert refused.exit_code == 1
        assert str(plan) in refused.stderr
        assert "segment admins → wide" in refused.stderr
        assert "allow_shrink: true" in refused.stderr
        assert "--allow-shrink" in refused.stderr
        assert dump() == before
        allowed = run("plan", "apply", str(plan), "--allow-shrink", "--actor", "alice")
        assert allowed.exit_code == 0, allowed.stderr


QUICK = """\
flag: new_checkout
environment: prod
stages:
  - {name: canary-5, audience: 5, min_duration: 1h}
  - {name: all, audience: 100}
"""


def _running(run: Run, tmp_path: Path) -> None:
    """new_checkout at canary-5 in prod (a plan running)."""
    assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
    plan = tmp_path / "quick.yaml"
    plan.write_text(QUICK)
    applied = run("plan", "apply", str(plan), "--actor", "alice")
    assert applied.exit_code == 0, applied.stderr


class TestRunningRolloutCannotDisappear:
    """Reproduction 2: a flag with a running rollout cannot be deleted or dropped."""

    def test_delete_refused(self, run: Run, dump: Callable[[], Any], tmp_path: Path) -> None:
        """`flag delete` names the rollout and the command that ends it; nothing changes."""
        _running(run, tmp_path)
        before = dump()
        result = run("flag", "delete", "new_checkout", "--actor", "bob")
        assert result.exit_code == 1
        assert "rollout #1" in result.stderr
        assert "phased rollout rollback new_checkout" in result.stderr
        assert dump() == before

    def test_flags_apply_that_drops_it_is_refused(
        self, run: Run, dump: Callable[[], Any], tmp_path: Path
    ) -> None:
        """A flags file that leaves the flag out is refused too."""
        _running(run, tmp_path)
        text = Path(FLAGS).read_text()
        start = text.index("  new_checkout:")
        end = text.index("  # Seed 003")
        dropped = tmp_path / "dropped.yaml"
        dropped.write_text(text[:start] + text[end:])
        before = dump()
        result = run("flags", "apply", str(dropped), "--actor", "ci")
        assert result.exit_code == 1
        assert "rollout #1" in result.stderr
        assert dump() == before


class TestDrift:
    """Reproduction 4: a manual change to a flag a running plan controls is decided, not silent."""

    def test_percent_refused_without_force(
        self, run: Run, dump: Callable[[], Any], tmp_path: Path
    ) -> None:
        """`rollout set --percent 30` at canary-5 is refused; the store is unchanged."""
        _running(run, tmp_path)
        before = dump()
        result = run(
            "rollout", "set", "new_checkout", "--percent", "30", "--env", "prod", "--actor", "bob"
        )
        assert result.exit_code == 1
        assert "rollout #1" in result.stderr
        assert "--force" in result.stderr
        assert dump() == before

    def test_forced_change_holds_the_rollout(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """With --force: audited as forced drift, the rollout paused naming the change."""
        _running(run, tmp_path)
        forced = run(
            "rollout",
            "set",
            "new_checkout",
            "--percent",
            "30",
            "--env",
            "prod",
            "--force",
            "--actor",
            "bob",
        )
        assert forced.exit_code == 0, forced.stderr
        assert _prod(loads, run, "new_checkout")["rollout"] == 30.0
        status = loads(run("rollout", "status", "new_checkout", json=True))
        assert status["rollout"]["phase"] == "paused"
        assert "rollout 5 % -> 30 %" in status["rollout"]["reason"]
        entries = loads(run("audit", "recent", "-n", "5", json=True))
        by_action = {e["action"]: e for e in entries}
        assert by_action["rollout.set"]["details"]["forced_drift"] is True
        assert by_action["rollout.pause"]["details"]["drift"] == "rollout 5 % -> 30 %"
        assert run("engine", "run", "--once").exit_code == 0
        assert loads(run("rollout", "status", "new_checkout", json=True))["rollout"]["phase"] == (
            "paused"
        )
        assert _prod(loads, run, "new_checkout")["rollout"] == 30.0
        assert run("rollout", "resume", "new_checkout", "--actor", "bob").exit_code == 0

    def test_kill_switch_and_overrides(self, run: Run, tmp_path: Path) -> None:
        """Kill switch and a many-context override need --force; a one-user pin does not."""
        _running(run, tmp_path)
        killed = run("flag", "disable", "new_checkout", "--env", "prod", "--actor", "bob")
        assert killed.exit_code == 1
        assert "kill switch engaged" in killed.stderr
        one = run(
            "override",
            "set",
            "new_checkout",
            "--user",
            "u-1",
            "--enable",
            "--env",
            "prod",
            "--actor",
            "bob",
        )
        assert one.exit_code == 0, one.stderr
        org = run(
            "override",
            "set",
            "new_checkout",
            "--attr",
            "org=acme",
            "--enable",
            "--env",
            "prod",
            "--actor",
            "bob",
        )
        assert org.exit_code == 1
        assert "overrides reaching more than one context" in org.stderr

    def test_other_environments_are_free(self, run: Run, tmp_path: Path) -> None:
        """The plan runs in prod; dev is not its to control."""
        _running(run, tmp_path)
        result = run(
            "rollout", "set", "new_checkout", "--percent", "30", "--env", "dev", "--actor", "bob"
        )
        assert result.exit_code == 0, result.stderr


class TestArchive:
    """Deleting a flag archives it: listed, restorable, history and audit readable, not served."""

    def test_delete_archive_restore(
        self, run: Run, loads: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """delete -> list --archived -> restore brings back the same definition and states."""
        _running(run, tmp_path)
        assert (
            run("rollout", "rollback", "new_checkout", "--reason", "x", "--actor", "bob").exit_code
            == 0
        )
        kept = loads(run("flag", "show", "awf_bundle", json=True))
        assert run("flag", "delete", "awf_bundle", "--actor", "bob").exit_code == 0
        assert run("flag", "delete", "new_checkout", "--actor", "bob").exit_code == 0
        live = [f["key"] for f in loads(run("flag", "list", json=True))]
        assert "awf_bundle" not in live
        assert run("eval", "awf_bundle", "--env", "prod", "--ctx", "user=user-123").exit_code != 0
        archived = loads(run("flag", "list", "--archived", json=True))
        assert [a["key"] for a in archived] == ["awf_bundle", "new_checkout"]
        assert archived[0]["archived_by"] == "bob"
        shown = run("flag", "list", "--archived")
        assert "phased flag restore awf_bundle" in shown.stdout
        history = run("rollout", "history", "new_checkout", json=True)
        assert history.exit_code == 0, history.stderr
        assert run("flag", "restore", "awf_bundle", "--actor", "bob").exit_code == 0
        back = loads(run("flag", "show", "awf_bundle", json=True))
        assert back["environments"] == kept["environments"]
        assert [a["key"] for a in loads(run("flag", "list", "--archived", json=True))] == [
            "new_checkout"
        ]
        actions = [e["action"] for e in loads(run("audit", "recent", "-n", "3", json=True))]
        assert "flag.restore" in actions

    def test_restore_unknown(self, run: Run) -> None:
        """Restoring a key that was never archived says where to look."""
        result = run("flag", "restore", "nothing", "--actor", "bob")
        assert result.exit_code == 1
        assert "phased flag list --archived" in result.stderr


class TestFlagsApplyPreview:
    """`flags apply --dry-run` shows who gains and who loses, from the same preview as plans."""

    def test_dry_run_names_losers(self, run: Run, tmp_path: Path) -> None:
        """Lowering the rollout in the file is shown as a loss before anything is written."""
        assert run("flags", "apply", FLAGS, "--actor", "ci").exit_code == 0
        edited = tmp_path / "f.yaml"
        edited.write_text(
            Path(FLAGS)
            .read_text()
            .replace("rollout: 25", "rollout: 10")
            .replace("rules: [{segment: admins}, {segment: pms}]\n", "rules: [{segment: admins}]\n")
        )
        dry = run("flags", "apply", str(edited), "--dry-run")
        assert dry.exit_code == 0, dry.stderr
        assert "awf_bundle in prod: loses 15 % of users (25 -> 10 %)" in dry.stdout
        assert "ux_updates in prod: loses segment pms" in dry.stdout
