"""The core stays pure: it imports no I/O library and never reads the clock itself.

One module is the exception by design: ``core/clock.py`` is the clock contract
(the wall clock, the virtual clock and its lock), so that nothing else defines
one. The rest of the core may take only its type names, never a reading.
"""

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
CLOCK = "clock.py"
"""The clock contract itself: the one core module that reads time (see the module docstring)."""
CLOCK_READS = {"time", "threading"}
"""What ``core/clock.py`` alone may import: the wall clock, and the virtual clock's lock."""
CLOCK_TYPES = {"Clock", "EpochClock"}


class TestCorePurity:
    """No module under ``phased.core`` imports I/O, clock or edge packages."""

    def test_no_banned_imports(self) -> None:
        offenders = []
        for path in CORE.rglob("*.py"):
            banned = BANNED - CLOCK_READS if path.relative_to(CORE) == Path(CLOCK) else BANNED
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    if any(name == b or name.startswith(b + ".") for b in banned):
                        offenders.append(f"{path.relative_to(CORE)}: {name}")
        assert offenders == []

    def test_no_clock_reads(self) -> None:
        offenders = [
            str(path.relative_to(CORE))
            for path in CORE.rglob("*.py")
            if path.relative_to(CORE) != Path(CLOCK)
            and any(
                s in path.read_text("utf-8") for s in ("datetime.now(", "time.time(", ".utcnow(")
            )
        ]
        assert offenders == []

    def test_the_rest_of_the_core_takes_only_clock_types(self) -> None:
        """Other core modules name ``Clock``/``EpochClock``; none calls a clock of its own."""
        offenders = [
            f"{path.relative_to(CORE)}: {alias.name}"
            for path in CORE.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module == "phased.core.clock"
            for alias in node.names
            if alias.name not in CLOCK_TYPES
        ]
        offenders += [
            str(path.relative_to(CORE))
            for path in CORE.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Import)
            and any(a.name == "phased.core.clock" for a in node.names)
        ]
        assert offenders == []
