"""docs/guarantees.md names only tests that exist: a promise always points at its proof."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
GUARANTEES = ROOT / "docs" / "guarantees.md"
REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?(?:::(\w+))?")


def _defined(path: Path) -> set[str]:
    """Every ``Class``, ``Class::test`` and ``test`` defined in a test file."""
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef)
            )
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def test_every_cited_test_exists() -> None:
    text = GUARANTEES.read_text("utf-8")
    cited = REFERENCE.findall(text)
    assert len(cited) > 30
    missing = []
    for file, cls, name in cited:
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
            continue
        wanted = "::".join(part for part in (cls, name) if part)
        if wanted and wanted not in _defined(path):
            missing.append(f"{file}::{wanted}")
    assert missing == []
