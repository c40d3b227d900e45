"""The core stays pure: it imports no I/O library and never reads the clock itself."""

from __future__ import annotations

import ast
from pathlib import Path

import phased.core

CORE = Path(phased.core.__file__).parent
BANNED = {
    "os", "time", "socket", "subprocess", "threading", "httpx", "requests", "sqlalchemy",
    "alembic", "fastapi", "starlette", "uvicorn", "psycopg", "typer", "rich", "structlog",
    "phased.store", "phased.service", "phased.server", "phased.cli", "phased.sdk",
}  # fmt: skip


class TestCorePurity:
    """No module under ``phased.core`` imports I/O, clock or edge packages."""

    def test_no_banned_imports(self) -> None:
        offenders = []
        for path in CORE.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    if any(name == b or name.startswith(b + ".") for b in BANNED):
                        offenders.append(f"{path.relative_to(CORE)}: {name}")
        assert offenders == []

    def test_no_clock_reads(self) -> None:
        offenders = [
            str(path.relative_to(CORE))
            for path in CORE.rglob("*.py")
            if any(
                s in path.read_text("utf-8") for s in ("datetime.now(", "time.time(", ".utcnow(")
            )
        ]
        assert offenders == []
