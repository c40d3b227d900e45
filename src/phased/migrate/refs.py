"""``phased flag refs KEY [PATH…]``: where the code still reads a flag (file and line).

A reference is the flag key as a whole word (``"awf_bundle"``,
``is_enabled('awf_bundle')``, ``awf_bundle:`` in YAML) or its environment
variable (``AWF_BUNDLE_ON``). Directories are walked; version-control,
virtualenv, dependency and cache directories, binary files and files over
2 MB are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "dist",
        "build",
        ".tox",
    }
)
MAX_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class Ref:
    """One line that reads the flag."""

    path: str
    line: int
    text: str

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"path": self.path, "line": self.line, "text": self.text}


def _files(paths: Iterable[str]) -> Iterator[Path]:
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            yield root
            continue
        for here, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                yield Path(here) / name


def find_refs(key: str, paths: Iterable[str], *, env_var: str | None = None) -> list[Ref]:
    """Every line under ``paths`` naming ``key`` (or ``env_var``), in path order."""
    names = [re.escape(key)] + ([re.escape(env_var)] if env_var else [])
    pattern = re.compile(rf"(?<![A-Za-z0-9_-])(?:{'|'.join(names)})(?![A-Za-z0-9_-])")
    out: list[Ref] = []
    for path in _files(paths):
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        if not pattern.search(text):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                out.append(Ref(str(path), number, line.strip()[:200]))
    return out
