"""The ``phased`` process configures phased's logging once, at start, from Settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
    return subprocess.run(
        [sys.executable, "-m", "phased.cli.main", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestProcessLogging:
    """Log lines go to stderr as JSON; stdout carries only results; a bad level is refused."""

    def test_unknown_level_is_one_line_and_exit_1(self, tmp_path: Path) -> None:
        done = _run("flag", "list", cwd=tmp_path, PHASED_LOG_LEVEL="loud")
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            "error: log_level: must be one of debug, info, warn, error (got 'loud'); "
            "set PHASED_LOG_LEVEL"
        ]

    def test_debug_logging_keeps_stdout_clean(self, tmp_path: Path) -> None:
        done = _run("flag", "list", "--json", cwd=tmp_path, PHASED_LOG_LEVEL="debug")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == []
        for line in done.stderr.splitlines():
            record = json.loads(line)
            assert {"ts", "level", "service", "msg"} <= record.keys()
