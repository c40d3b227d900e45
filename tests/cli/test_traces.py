"""Every CLI command records a trace; ``phased debug-last`` shows the last one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from cli.conftest import Run
from phased.cli.main import app

PHASED = str(Path(sys.executable).with_name("phased"))
SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def debug_last(*args: str) -> Result:
    """``phased debug-last`` in dev, where it is on."""
    return CliRunner().invoke(app, ["debug-last", "--env", "dev", *args])


class TestCommandTraces:
    """A command's trace names it, its actor, each service call with ✅/❌, and its refusal."""

    def test_success_shows_steps(self, run: Run) -> None:
        assert run("flag", "create", "awf", "--actor", "alice").exit_code == 0
        shown = debug_last()
        assert shown.exit_code == 0, shown.stderr
        assert "Command: flag create" in shown.stdout
        assert "User: alice" in shown.stdout
        assert "  ✅ flags.create_flag (" in shown.stdout
        assert "  ✅ flags.get_flag (" in shown.stdout
        assert "Error" not in shown.stdout

    def test_refusal_is_the_error(self, run: Run) -> None:
        run("flag", "create", "awf", "--actor", "alice")
        refused = run("flag", "enable", "awf", "--env", "moon", "--actor", "bob")
        assert refused.exit_code == 1
        shown = debug_last().stdout
        assert "Command: flag enable" in shown
        assert "User: bob" in shown
        assert "  ❌ flags.set_enabled (" in shown
        assert "❌ Error: env: unknown environment 'moon'" in shown

    def test_usage_mistake_is_recorded(self, run: Run) -> None:
        assert run("flag", "create", "awf").exit_code == 2  # no --actor
        shown = debug_last().stdout
        assert "Command: flag create" in shown
        assert "❌ Error: usage: missing option '--actor'" in shown

    def test_secrets_are_redacted(self, run: Run, tmp_path: Path) -> None:
        run("flag", "create", "awf", "--actor", "alice")
        pinned = run("override", "set", "awf", "--user", SECRET, "--enable", "--actor", "alice")
        assert pinned.exit_code == 0, pinned.stderr
        shown = debug_last().stdout
        assert "✅ overrides.set_override" in shown
        assert "user=***6789" in shown
        assert SECRET not in shown
        assert SECRET not in (tmp_path / "traces.jsonl").read_text()

    def test_secret_in_an_error_text_is_redacted(self, run: Run, tmp_path: Path) -> None:
        """Issue 9, repro 6: ``password=…`` inside a refusal raised in a traced step."""
        run("flag", "create", "awf", "--actor", "alice")
        refused = run("flag", "enable", "awf", "--env", "password=hunter2hunter2", "--actor", "b")
        assert refused.exit_code == 1
        shown = debug_last().stdout
        assert "❌ Error: env: unknown environment 'password=***ter2'" in shown
        assert "hunter2hunter2" not in shown
        assert "hunter2hunter2" not in (tmp_path / "traces.jsonl").read_text()

    def test_debug_last_does_not_replace_the_last_trace(self, run: Run) -> None:
        run("segment", "list")
        debug_last()
        shown = debug_last("--json")
        assert json.loads(shown.stdout)["command"] == "segment list"

    def test_help_is_not_recorded(self, run: Run, tmp_path: Path) -> None:
        CliRunner().invoke(app, ["flag", "create", "--help"])
        assert not (tmp_path / "traces.jsonl").exists()


class TestEntryPoint:
    """Through the installed script: each command is its own process, the file joins them."""

    def test_next_process_sees_it(self, tmp_path: Path) -> None:
        env = {"PATH": "/usr/bin:/bin", "PHASED_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}

        def phased(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [PHASED, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
            )

        assert phased("flag", "create", "awf", "--actor", "alice").returncode == 0
        shown = phased("debug-last")
        assert shown.returncode == 0, shown.stderr
        assert "Command: flag create" in shown.stdout
        assert "  ✅ flags.create_flag (" in shown.stdout
        assert (tmp_path / ".phased" / "traces.jsonl").exists()  # the default trace file
