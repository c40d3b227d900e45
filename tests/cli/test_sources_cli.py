"""``phased sources`` and ``phased plan validate`` with metric sources and hooks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from phased.cli.main import app

PLAN = """\
flag: bot_smoke
environment: prod
stages:
  - name: canary
    audience: 5
    gates:
      - {metric: lambda_errors, source: prom, query: 'sum(errors)', below: 0.05}
    hooks:
      pre_stage:
        - {name: smoke, command: [definitely-not-a-program-xyz, --fast]}
  - name: full
    audience: 100
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestPlanValidateWithSources:
    """Unknown sources and missing hook programs are refused with file, line and field."""

    def test_unknown_source(self, tmp_path: Path) -> None:
        plan = write(tmp_path, "plan.yaml", PLAN)
        empty = write(tmp_path, "sources.yaml", "sources: {}\n")
        result = CliRunner().invoke(app, ["plan", "validate", str(plan), "--sources", str(empty)])
        assert result.exit_code == 1
        assert f"{plan}:7: stages[0].gates[0].source: unknown metric source 'prom'" in result.output

    def test_missing_command(self, tmp_path: Path) -> None:
        plan = write(tmp_path, "plan.yaml", PLAN)
        conf = write(
            tmp_path, "sources.yaml", "sources:\n  prom: {kind: prometheus, address: 'http://x'}\n"
        )
        result = CliRunner().invoke(app, ["plan", "validate", str(plan), "--sources", str(conf)])
        assert result.exit_code == 1
        assert f"{plan}:10: stages[0].hooks.pre_stage[0].command: hook 'smoke'" in result.output
        assert "'definitely-not-a-program-xyz' is not on PATH" in result.output

    def test_non_http_hook_url(self, tmp_path: Path) -> None:
        text = PLAN.replace("command: [definitely-not-a-program-xyz, --fast]", "url: ftp://ci/x")
        plan = write(tmp_path, "plan.yaml", text)
        conf = write(
            tmp_path, "sources.yaml", "sources:\n  prom: {kind: prometheus, address: 'http://x'}\n"
        )
        result = CliRunner().invoke(app, ["plan", "validate", str(plan), "--sources", str(conf)])
        assert result.exit_code == 1
        assert f"{plan}:10: stages[0].hooks.pre_stage[0].url" in result.output
        assert "must start with http:// or https://" in result.output

    def test_valid(self, tmp_path: Path) -> None:
        plan = write(tmp_path, "plan.yaml", PLAN.replace("definitely-not-a-program-xyz", "echo"))
        conf = write(
            tmp_path, "sources.yaml", "sources:\n  prom: {kind: prometheus, address: 'http://x'}\n"
        )
        result = CliRunner().invoke(app, ["plan", "validate", str(plan), "--sources", str(conf)])
        assert result.exit_code == 0, result.output


class TestSourcesCommands:
    """List (masked) and query a source now."""

    def test_list_masks_credentials(self, tmp_path: Path) -> None:
        conf = write(
            tmp_path,
            "sources.yaml",
            "sources:\n  api:\n    kind: web\n    address: http://127.0.0.1:1\n"
            "    headers: {Authorization: 'Bearer abcdefgh12345678'}\n",
        )
        result = CliRunner().invoke(app, ["sources", "list", "--config", str(conf), "--json"])
        assert result.exit_code == 0
        assert "abcdefgh12345678" not in result.output
        assert '"Authorization": "***"' in result.output

    def test_query_a_down_source_fails_with_its_message(self, tmp_path: Path) -> None:
        conf = write(
            tmp_path,
            "sources.yaml",
            "sources:\n  prom: {kind: prometheus, address: 'http://127.0.0.1:1'}\n",
        )
        result = CliRunner().invoke(app, ["sources", "query", "prom", "up", "--config", str(conf)])
        assert result.exit_code == 1
        assert "could not reach" in result.output


class TestTriggersCommands:
    """``phased triggers create|list|revoke`` on a database."""

    def test_create_list_revoke(self, tmp_path: Path) -> None:
        db = f"sqlite:///{tmp_path / 'p.db'}"
        runner = CliRunner()
        made = runner.invoke(app, ["flag", "create", "bot_smoke", "--db", db, "--actor", "a"])
        assert made.exit_code == 0, made.output
        out = runner.invoke(
            app,
            ["triggers", "create", "bot_smoke", "--match", "team=bots", "--db", db, "--actor", "a"],
        )
        assert out.exit_code == 0, out.output
        assert "POST <server>/api/v1/triggers/fire/phd_trg_" in out.output
        listed = runner.invoke(app, ["triggers", "list", "--db", db])
        assert "bot_smoke alertmanager: plan on_alert, team=bots, enabled" in listed.output
        gone = runner.invoke(
            app, ["triggers", "revoke", "bot_smoke", "alertmanager", "--db", db, "--actor", "a"]
        )
        assert gone.exit_code == 0, gone.output
        bad = runner.invoke(app, ["triggers", "create", "bot_smoke", "--match", "x", "--db", db])
        assert bad.exit_code == 2


class TestExample:
    """The example plan gated on seed 000's CloudWatch alarms validates against its sources."""

    def test_example_validates(self) -> None:
        root = Path(__file__).resolve().parents[2] / "examples" / "sources"
        result = CliRunner().invoke(
            app,
            [
                "plan",
                "validate",
                str(root / "valine-phase5-cloudwatch.yaml"),
                "--sources",
                str(root / "sources.yaml"),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "ok:" in result.output
