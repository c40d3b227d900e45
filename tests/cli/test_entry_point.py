"""The installed ``phased`` executable, run as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phased.core.flagfile import parse_flagset

EXAMPLE = Path(__file__).parents[2] / "examples" / "flags.yaml"
_EXAMPLE = parse_flagset(EXAMPLE.read_text("utf-8"))
EXAMPLE_ENTITIES = len(_EXAMPLE.flags) + len(_EXAMPLE.segments)


def _phased() -> str:
    beside = Path(sys.executable).parent / "phased"
    found = str(beside) if beside.exists() else shutil.which("phased")
    if found is None:
        pytest.fail("the `phased` entry point is not installed (pip install -e .)")
    return found


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
    env["COLUMNS"] = "120"
    return subprocess.run(
        [_phased(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestEntryPoint:
    """Exit codes and output of the real command, default store path included."""

    def test_demo_then_refusal_then_verify(self, tmp_path: Path) -> None:
        demo = _run("demo", "--file", str(EXAMPLE), cwd=tmp_path)
        assert demo.returncode == 0, demo.stderr
        assert (tmp_path / "phased.db").exists()  # the default sqlite:///./phased.db
        assert "awf_bundle" in demo.stdout
        assert "Usage: phased" in demo.stdout

        refused = _run(
            "rollout",
            "set",
            "awf_bundle",
            "--percent",
            "101",
            "--env",
            "prod",
            "--actor",
            "a",
            cwd=tmp_path,
        )
        assert refused.returncode == 1
        assert refused.stderr == (
            "error: percent: must be between 0 and 100 (got 101.0); e.g. --percent 25 or 12.5\n"
        )

        usage = _run("rollout", "set", "awf_bundle", cwd=tmp_path)
        assert usage.returncode == 2

        done = _run(
            "rollout",
            "set",
            "awf_bundle",
            "--percent",
            "50",
            "--env",
            "prod",
            "--actor",
            "a",
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        verify = _run("audit", "verify", cwd=tmp_path)
        assert verify.returncode == 0
        assert f"audit chain ok: {EXAMPLE_ENTITIES + 1} entries" in verify.stdout

    def test_version_and_help(self, tmp_path: Path) -> None:
        version = _run("--version", cwd=tmp_path)
        assert version.returncode == 0
        assert version.stdout.startswith("phased ")
        assert _run(cwd=tmp_path).returncode in (0, 2)  # no command: help
        assert not (tmp_path / "phased.db").exists()  # help never creates a store
