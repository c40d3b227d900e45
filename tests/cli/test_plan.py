"""``phased plan schema / validate / render`` and ``phased simulate`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from phased.cli import plan, simulate

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary-5
    audience: 5
    min_duration: 20m
    gates: [{metric: error_rate, below: 0.05}]
  - name: full
    audience: 100
    approval: {roles: [pm]}
    min_duration: 20m
rollback:
  - {metric: error_rate, compare: control}
  - {metric: error_rate, above: 0.2}
"""

TRAFFIC = """\
seed: 3
requests_per_minute: 200
duration_minutes: 120
users: 5000
control: {error_rate: 0.01}
candidate: {error_rate: 0.01}
"""


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    root.callback()(lambda: None)
    plan.register(root)
    simulate.register(root)
    return root


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "plan.yaml").write_text(PLAN, "utf-8")
    (tmp_path / "traffic.yaml").write_text(TRAFFIC, "utf-8")
    return tmp_path / "plan.yaml", tmp_path / "traffic.yaml"


class TestPlanCommands:
    """Schema prints JSON; validate says ok or names file, line and field; render writes md."""

    def test_schema(self, app: typer.Typer) -> None:
        result = CliRunner().invoke(app, ["plan", "schema"])
        assert result.exit_code == 0
        assert "stages" in json.loads(result.stdout)["properties"]

    def test_validate(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        result = CliRunner().invoke(app, ["plan", "validate", str(files[0])])
        assert result.exit_code == 0
        assert "flag awf_bundle, 2 stages (canary-5 → full)" in result.stdout

    def test_validate_refuses(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        files[0].write_text(PLAN.replace("audience: 100", "audience: 2"), "utf-8")
        result = CliRunner().invoke(app, ["plan", "validate", str(files[0])])
        assert result.exit_code == 1
        assert "plan.yaml:9: stages[1].audience.percent: 2 % is less than" in result.stderr

    def test_validate_with_roles(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        result = CliRunner().invoke(app, ["plan", "validate", str(files[0]), "--role", "admin"])
        assert result.exit_code == 1
        assert "nobody can hold the role 'pm'" in result.stderr

    def test_render(self, app: typer.Typer, files: tuple[Path, Path], tmp_path: Path) -> None:
        out = tmp_path / "plan.md"
        result = CliRunner().invoke(
            app, ["plan", "render", str(files[0]), "--format", "md", "-o", str(out)]
        )
        assert result.exit_code == 0
        assert "| full | pm | ____________ |" in out.read_text("utf-8")
        assert (
            CliRunner().invoke(app, ["plan", "render", str(files[0]), "--format", "pdf"]).exit_code
            == 2
        )


class TestSimulateCommand:
    """``--json`` prints one object per line ending with the summary; the human view a timeline."""

    def test_json_lines(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        plan_file, traffic = files
        result = CliRunner().invoke(
            app, ["simulate", str(plan_file), "--traffic", str(traffic), "--json"]
        )
        assert result.exit_code == 0
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        for line in lines[:-1]:
            assert set(line) == {"minute", "stage", "percent", "event", "reason", "metrics"}
            assert line["event"] in {"advance", "hold", "pause", "rollback", "complete", "gate"}
        assert lines[-1]["event"] == "summary"
        assert lines[-1]["outcome"] == "completed"

    def test_seed_changes_the_run(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        plan_file, traffic = files
        runs = [
            CliRunner().invoke(
                app, ["simulate", str(plan_file), "--traffic", str(traffic), "--json", "--seed", s]
            )
            for s in ("1", "1", "2")
        ]
        assert runs[0].stdout == runs[1].stdout != runs[2].stdout

    def test_no_auto_approve(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        plan_file, traffic = files
        result = CliRunner().invoke(
            app,
            ["simulate", str(plan_file), "--traffic", str(traffic), "--json", "--no-auto-approve"],
        )
        summary = json.loads(result.stdout.splitlines()[-1])
        assert (summary["outcome"], summary["stage"]) == ("running", "canary-5")

    def test_timeline(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        plan_file, traffic = files
        result = CliRunner().invoke(app, ["simulate", str(plan_file), "--traffic", str(traffic)])
        assert result.exit_code == 0
        assert "timeline" in result.stdout
        assert "sim-pm-1" in result.stdout
        assert "completed" in result.stdout

    def test_bad_traffic(self, app: typer.Typer, files: tuple[Path, Path]) -> None:
        plan_file, traffic = files
        traffic.write_text(
            TRAFFIC.replace("{error_rate: 0.01}\ncandidate", "{error_rate: -1}\ncandidate"), "utf-8"
        )
        result = CliRunner().invoke(app, ["simulate", str(plan_file), "--traffic", str(traffic)])
        assert result.exit_code == 1
        assert "traffic.yaml:5: control.error_rate: must be between 0 and 1" in result.stderr
