"""``phased golden``: exit codes, readable output, JUnit, one-line refusals for bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phased.cli.main import app

REPO = Path(__file__).parents[2]
EXAMPLE_TARGET = "examples.goldens.awf_turn:run_turn"


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example goldens in a fresh directory that is also the working directory."""
    shutil.copytree(REPO / "examples" / "goldens", tmp_path / "examples" / "goldens")
    shutil.copy(REPO / "examples" / "__init__.py", tmp_path / "examples" / "__init__.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHASED_TRACE_FILE", str(tmp_path / "traces.jsonl"))
    # `examples` may already be imported from tests/examples; import this copy instead.
    for name in [m for m in sys.modules if m == "examples" or m.startswith("examples.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def golden(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["golden", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class TestGoldenCommands:
    """The seed's scenario runs as written against the example target, in all three modes."""

    def test_record_verify_test(self, repo_copy: Path) -> None:
        code, out, _ = golden("test", "examples/goldens", "--target", EXAMPLE_TARGET)
        assert (code, out) == (0, "golden test: passed: 1/1 scenario(s), 1 turn(s)\n")
        (repo_copy / "examples/goldens/first-meet-kiera.golden.json").unlink()
        code, _, err = golden("verify", "examples/goldens", "--target", EXAMPLE_TARGET)
        assert code == 1
        assert "missing recording" in err
        code, out, _ = golden("record", "examples/goldens", "--target", EXAMPLE_TARGET)
        assert (code, out) == (0, "recorded 1 scenario(s), 1 turn(s)\n")
        assert (repo_copy / "examples/goldens/first-meet-kiera.golden.json").exists()
        code, out, _ = golden(
            "verify",
            "examples/goldens",
            "--target",
            EXAMPLE_TARGET,
            "--scenario",
            "first-meet-kiera",
        )
        assert code == 0

    def test_failed_expectation_names_scenario_turn_key(self, repo_copy: Path) -> None:
        path = repo_copy / "examples/goldens/first-meet-kiera.json"
        path.write_text(path.read_text("utf-8").replace('"choicesAtMost": 5', '"choicesAtMost": 2'))
        code, out, err = golden("test", "examples/goldens", "--target", EXAMPLE_TARGET)
        assert code == 1
        assert "first-meet-kiera turns[0] choicesAtMost: choices length" in err
        assert err.startswith("examples/goldens/first-meet-kiera.json:6:")
        assert "FAILED: 0/1" in out

    def test_both_arms_and_junit(self, repo_copy: Path) -> None:
        code, out, _ = golden(
            "test",
            "examples/goldens",
            "--target",
            EXAMPLE_TARGET,
            "--both-arms",
            "--junit",
            "report.xml",
        )
        assert code == 0
        assert "parity: 1 turn(s) differ between the arms (off → on):" in out
        assert "    ~ output.sceneChange: false → true" in out
        suite = ET.parse(repo_copy / "report.xml").getroot()
        assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
        code, _, _ = golden(
            "test",
            "examples/goldens",
            "--target",
            EXAMPLE_TARGET,
            "--both-arms",
            "--require-parity",
        )
        assert code == 1

    def test_cmd_target_json(self, repo_copy: Path) -> None:
        script = repo_copy / "turn.py"
        script.write_text(
            "import json, sys\n"
            "print(json.dumps({'text': sys.stdin.read() + ' eyes', 'choices': [1],"
            " 'sceneChange': True}))\n",
            "utf-8",
        )
        code, out, _ = golden(
            "test", "examples/goldens", "--cmd", f"{sys.executable} {script}", "--json"
        )
        assert code == 0, out
        assert '"passed": true' in out


class TestGoldenBadInput:
    """Bad input: one clear line naming file/field, exit 1 (2 for usage), nothing recorded."""

    def test_unimportable_target(self, repo_copy: Path) -> None:
        (repo_copy / "examples/goldens/first-meet-kiera.golden.json").unlink()
        code, _, err = golden("record", "examples/goldens", "--target", "nowhere:run")
        assert code == 1
        assert err.startswith("error: --target: cannot import 'nowhere'")
        assert not (repo_copy / "examples/goldens/first-meet-kiera.golden.json").exists()

    def test_target_and_cmd_are_exclusive(self, repo_copy: Path) -> None:
        code, _, err = golden("test", "examples/goldens")
        assert code == 2
        assert "give exactly one of --target" in err

    def test_bad_regex(self, repo_copy: Path) -> None:
        bad = repo_copy / "examples/goldens/bad.yaml"
        bad.write_text("name: bad\nturns:\n  - input: x\n    expect:\n      regex: '(['\n")
        (repo_copy / "examples/goldens/first-meet-kiera.golden.json").unlink()
        code, _, err = golden("record", "examples/goldens", "--target", EXAMPLE_TARGET)
        assert code == 1
        assert err.startswith(
            "error: examples/goldens/bad.yaml:5: turns[0].expect.regex: the regular expression"
        )
        assert not (repo_copy / "examples/goldens/first-meet-kiera.golden.json").exists()


class TestPytestPlugin:
    """The `golden` fixture runs a project's goldens inside its own pytest suite."""

    def test_fixture_passes_and_fails(self, repo_copy: Path) -> None:
        (repo_copy / "test_goldens.py").write_text(
            "def test_ok(golden):\n"
            f"    golden.test('examples/goldens', target='{EXAMPLE_TARGET}')\n\n"
            "def test_bad(golden):\n"
            "    golden.test('examples/goldens', target=lambda text, **kw: 'nothing')\n",
            "utf-8",
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "test_goldens.py",
                "-W",
                "error",
            ],
            capture_output=True,
            text=True,
            cwd=repo_copy,
            check=False,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert "1 failed, 1 passed" in done.stdout
        assert "first-meet-kiera turns[0] mustInclude: missing" in done.stdout


class TestGoldenReport:
    """--report records the run with its build and ticks the stage it is evidence for."""

    def test_report_ticks_the_stage(self, repo_copy: Path, db: str) -> None:
        plan = repo_copy / "plan.yaml"
        plan.write_text(
            "flag: awf_bundle\nenvironment: prod\nstages:\n"
            "  - {name: canary-5, audience: 5, golden: [awf-goldens]}\n"
            "  - {name: full, audience: 100}\n"
        )
        runner = CliRunner()
        for argv in (
            ["flag", "create", "awf_bundle", "--actor", "t"],
            ["plan", "apply", str(plan), "--actor", "t"],
        ):
            assert runner.invoke(app, [*argv, "--db", db]).exit_code == 0
        code, out, _ = golden(
            "test",
            "examples/goldens",
            "--target",
            EXAMPLE_TARGET,
            "--report",
            "awf-goldens",
            "--flag",
            "awf_bundle",
            "--build",
            "v1.5.0",
            "--actor",
            "ci",
            "--db",
            db,
        )
        assert code == 0
        assert out.splitlines()[-1].startswith("reported passing run golden-run:1 of awf-goldens")
        assert out.splitlines()[-1].endswith(
            "(build v1.5.0); ticks stage canary-5 of awf_bundle (item 'golden: awf-goldens')"
        )
        code, _, err = golden(
            "test",
            "examples/goldens",
            "--target",
            EXAMPLE_TARGET,
            "--report",
            "awf-goldens",
            "--actor",
            "ci",
            "--db",
            db,
        )
        assert code == 2
        assert "--report needs --build" in err
