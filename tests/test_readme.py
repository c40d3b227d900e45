"""The README's tour works as written: every command runs, and every output line it shows appears.

In the tour's ``sh`` blocks, a line ``# text`` right after a command is output
that command must print; a command whose shown output starts with ``error:``
must exit 1, every other command 0. The commands run through the installed
``phased`` entry point in a fresh directory with its own embedded store.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def tour_steps() -> list[Step]:
    text = README.read_text("utf-8")
    section = text.split("## A five-minute tour of the CLI", 1)[1].split("\n## ", 1)[0]
    steps: list[Step] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if not line.strip():
                continue
            if line.startswith("# "):
                assert steps, f"output line before any command: {line!r}"
                steps[-1].expected.append(line[2:])
            else:
                steps.append(Step(line))
    return steps


class TestReadmeTour:
    """Each command of the tour, in order, in one fresh directory."""

    def test_tour(self, tmp_path: Path) -> None:
        (tmp_path / "examples").symlink_to(ROOT / "examples")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("PHASED_") and k != "COLUMNS"
        }
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["COLUMNS"] = "120"
        steps = tour_steps()
        assert len(steps) >= 15
        for step in steps:
            if step.command.startswith("export "):
                for assignment in shlex.split(step.command[len("export ") :]):
                    name, _, value = assignment.partition("=")
                    env[name] = value
                continue
            done = subprocess.run(
                ["bash", "-c", step.command],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            output = done.stdout + done.stderr
            refused = any(line.startswith("error:") for line in step.expected)
            assert done.returncode == (1 if refused else 0), (step.command, output)
            for line in step.expected:
                assert line in output, (step.command, line, output)


@pytest.mark.parametrize("command", ["make run", "make test"])
def test_the_two_commands_are_documented(command: str) -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert command in README.read_text("utf-8")
    assert re.search(rf"^{command.split()[1]}:", makefile, re.M)
