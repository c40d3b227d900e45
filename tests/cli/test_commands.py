"""``phased flag``, ``rollout``, ``override``, ``segment``, ``eval`` as people type them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
Loads = Callable[[Result], Any]


class TestFlag:
    """Create, list, show, enable, disable, set-default, delete."""

    def test_lifecycle(self, run: Run, loads: Loads) -> None:
        created = loads(
            run(
                "flag",
                "create",
                "awf_bundle",
                "--env-var",
                "AWF_BUNDLE_ON",
                "--description",
                "AWF pipeline",
                "--tag",
                "migration",
                "--actor",
                "admin",
                json=True,
            )
        )
        assert created["env_var"] == "AWF_BUNDLE_ON"
        assert created["environments"]["prod"]["enabled"] is False
        result = run("flag", "enable", "awf_bundle", "--env", "prod", "--actor", "admin")
        assert result.exit_code == 0
        assert "awf_bundle enabled in prod" in result.stdout
        listed = loads(run("flag", "list", json=True))
        assert [f["key"] for f in listed] == ["awf_bundle"]
        assert listed[0]["environments"]["prod"]["enabled"] is True
        assert "awf_bundle" in run("flag", "list").stdout
        run("flag", "set-default", "awf_bundle", "on", "--env", "dev", "--actor", "admin")
        run("flag", "enable", "awf_bundle", "--env", "dev", "--actor", "admin")
        shown = run("flag", "show", "awf_bundle")
        assert "AWF_BUNDLE_ON" in shown.stdout
        assert "prod" in shown.stdout
        result = run("flag", "disable", "awf_bundle", "--env", "prod", "--actor", "oncall")
        assert "disabled (killed)" in result.stdout
        assert run("flag", "delete", "awf_bundle", "--actor", "admin").exit_code == 0
        assert loads(run("flag", "list", json=True)) == []

    def test_multivariate(self, run: Run, loads: Loads) -> None:
        run("flag", "create", "layout", "--variants", "control=50,wide=50", "--actor", "a")
        assert loads(run("flag", "show", "layout", json=True))["variants"] == {
            "control": 50,
            "wide": 50,
        }

    def test_actor_from_the_environment(self, run: Run) -> None:
        result = run("flag", "create", "x", env={"PHASED_ACTOR": "ci-bot"})
        assert result.exit_code == 0, result.stderr
        audit = run("audit", "recent", "--actor", "ci-bot")
        assert "flag.create" in audit.stdout

    def test_missing_actor_is_a_usage_error(self, run: Run) -> None:
        result = run("flag", "create", "x")
        assert result.exit_code == 2
        assert "--actor" in result.stderr

    def test_env_from_the_environment(self, run: Run, loads: Loads) -> None:
        run("flag", "create", "x", "--actor", "a")
        run("flag", "enable", "x", "--actor", "a", env={"PHASED_ENV": "staging"})
        states = loads(run("flag", "show", "x", json=True))["environments"]
        assert (states["staging"]["enabled"], states["dev"]["enabled"]) == (True, False)

    def test_stale_expect_version(self, run: Run) -> None:
        run("flag", "create", "x", "--actor", "a")
        result = run(
            "flag", "enable", "x", "--env", "prod", "--expect-version", "7", "--actor", "a"
        )
        assert result.exit_code == 1
        assert "at version 1" in result.stderr


class TestRolloutAndOverrides:
    """Seed 003's scripts, as phased commands."""

    def _flag(self, run: Run) -> None:
        run("flag", "create", "awf_bundle", "--actor", "admin")
        run("flag", "enable", "awf_bundle", "--env", "prod", "--actor", "admin")

    def test_rollout_set(self, run: Run, loads: Loads) -> None:
        self._flag(run)
        result = run(
            "rollout", "set", "awf_bundle", "--percent", "25", "--env", "prod", "--actor", "admin"
        )
        assert result.exit_code == 0
        assert "rollout 0% → 25%" in result.stdout
        shown = loads(run("flag", "show", "awf_bundle", json=True))
        assert shown["environments"]["prod"]["rollout"] == 25

    def test_overrides(self, run: Run, loads: Loads) -> None:
        self._flag(run)
        common = ("--env", "prod", "--actor", "admin")
        assert (
            run(
                "override", "set", "awf_bundle", "--user", "user-123", "--enable", *common
            ).exit_code
            == 0
        )
        assert (
            run(
                "override",
                "set",
                "awf_bundle",
                "--session",
                "session-456",
                "--disable",
                "--expires",
                "7d",
                *common,
            ).exit_code
            == 0
        )
        assert (
            run(
                "override", "set", "awf_bundle", "--attr", "org=acme", "--enable", *common
            ).exit_code
            == 0
        )
        listed = loads(run("override", "list", "awf_bundle", json=True))
        assert [(o["attribute"], o["value"], o["serve"]) for o in listed] == [
            ("user", "user-123", True),
            ("session", "session-456", False),
            ("org", "acme", True),
        ]
        assert listed[1]["expires"] is not None
        assert not any(o["expired"] for o in listed)
        assert "session-456" in run("override", "list").stdout
        evaluation = loads(
            run("eval", "awf_bundle", "--env", "prod", "--ctx", "user=user-123", json=True)
        )
        assert evaluation["reason"] == "override:user=user-123"
        assert run("override", "clear", "awf_bundle", "--user", "user-123", *common).exit_code == 0
        result = run("override", "clear-all", *common)
        assert "awf_bundle" in result.stdout
        assert loads(run("override", "list", json=True)) == []

    def test_serve_must_be_one_choice(self, run: Run) -> None:
        self._flag(run)
        result = run(
            "override",
            "set",
            "awf_bundle",
            "--user",
            "u",
            "--enable",
            "--disable",
            "--env",
            "prod",
            "--actor",
            "a",
        )
        assert result.exit_code == 1
        assert "exactly one of --enable, --disable or --variant" in result.stderr


class TestSegmentsAndEval:
    """Segments feed rules; eval shows value and reason."""

    def test_segment_commands(self, run: Run, loads: Loads) -> None:
        result = run(
            "segment", "create", "staff", "--where", "role in [admin, pm]", "--actor", "pm"
        )
        assert result.exit_code == 0, result.stderr
        assert loads(run("segment", "list", json=True))[0]["where"] == "role in [admin, pm]"
        assert "used by: no rule" in run("segment", "show", "staff").stdout
        assert run("segment", "delete", "staff", "--actor", "pm").exit_code == 0
        assert "no segments" in run("segment", "list").stdout

    def test_eval_reasons(self, run: Run, loads: Loads, tmp_path: Any) -> None:
        (tmp_path / "f.yaml").write_text(
            "segments:\n  beta: {where: labels contains beta-test}\n"
            "flags:\n  unified_pipeline:\n    environments:\n"
            "      prod: {rules: [{segment: beta}]}\n"
        )
        run("flags", "apply", str(tmp_path / "f.yaml"), "--actor", "a")
        hit = loads(
            run(
                "eval",
                "unified_pipeline",
                "--env",
                "prod",
                "--ctx",
                "labels=[beta-test, x]",
                json=True,
            )
        )
        assert (hit["value"], hit["reason"]) == (True, "segment:beta")
        miss = run("eval", "unified_pipeline", "--env", "prod", "--ctx", "labels=[x]")
        assert "off" in miss.stdout
        assert "(default)" in miss.stdout

    def test_eval_unknown_flag(self, run: Run) -> None:
        result = run("eval", "nope", "--env", "prod")
        assert result.exit_code == 1
        assert "no flag 'nope'" in result.stderr

    def test_bad_context(self, run: Run) -> None:
        run("flag", "create", "x", "--actor", "a")
        result = run("eval", "x", "--ctx", "user")
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ctx:")
