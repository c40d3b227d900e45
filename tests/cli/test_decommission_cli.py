"""``phased flag retire|refs|stale``: prerequisites printed, exit codes a script can use."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from phased.cli.main import app

from .conftest import Run


class TestDecommissionCli:
    """retire --check lists what holds; retire refuses in one line; refs exits 1 on a hit."""

    def test_retire_check_and_refusal(self, run: Run, tmp_path: Path) -> None:
        assert run("flag", "create", "awf_bundle", "--actor", "t").exit_code == 0
        code = tmp_path / "code"
        code.mkdir()
        (code / "app.py").write_text("client.is_enabled('awf_bundle')\n")
        checked = run("flag", "retire", "awf_bundle", "--check", "--code", str(code))
        assert checked.exit_code == 1
        lines = checked.stdout.splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "✗ full",
            "✗ gates",
            "✗ goldens",
            "✓ old_path_unused",
            "✗ code",
        ]
        assert lines[-1] == "✗ code: 1 reference(s) still read the flag"
        refused = run("flag", "retire", "awf_bundle", "--actor", "pat")
        assert refused.exit_code == 1
        assert refused.stderr.startswith("error: flag: cannot retire 'awf_bundle' yet: full:")
        forced = run("flag", "retire", "awf_bundle", "--actor", "pat", "--force")
        assert forced.exit_code == 0
        assert "retired awf_bundle (forced)" in forced.stdout

    def test_refs_and_stale(self, run: Run, tmp_path: Path) -> None:
        src = tmp_path / "src"
        src.mkdir()
        (src / "a.py").write_text("x = 1\nflag = 'unified_pipeline'\n")
        found = CliRunner().invoke(app, ["flag", "refs", "unified_pipeline", str(src)])
        assert found.exit_code == 1
        assert found.stdout == f"{src / 'a.py'}:2: flag = 'unified_pipeline'\n"
        assert CliRunner().invoke(app, ["flag", "refs", "other_flag", str(src)]).exit_code == 0
        assert "no stale flag" in run("flag", "stale").stdout
