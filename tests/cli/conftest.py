"""Running ``phased`` in-process against a fresh store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from phased.cli.main import app
from phased.store.engine import open_store

Run = Callable[..., Result]
REPO = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def _trace_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command records a trace: keep the trace file out of the working tree."""
    monkeypatch.setenv("PHASED_TRACE_FILE", str(tmp_path / "traces.jsonl"))


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store URL in a clean working directory with no PHASED_* set."""
    monkeypatch.chdir(tmp_path)
    for name in ("PHASED_ACTOR", "PHASED_ENV", "PHASED_DATABASE_URL", "PHASED_ENVIRONMENTS"):
        monkeypatch.delenv(name, raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(db: str) -> Run:
    """``run("flag", "list", json=True)``: invoke the CLI with ``--db`` (and ``--json``)."""

    def invoke(*args: str, json: bool = False, env: dict[str, str] | None = None) -> Result:
        argv = [*args, "--db", db] + (["--json"] if json else [])
        return CliRunner().invoke(app, argv, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def dump(db: str) -> Callable[[], dict[str, Any]]:
    """The full store content (to prove a refused command changed nothing)."""

    def read() -> dict[str, Any]:
        with open_store(db) as store:
            return store.dump()

    return read


@pytest.fixture
def loads() -> Callable[[Result], Any]:
    """The JSON a successful ``--json`` command printed."""

    def parse(result: Result) -> Any:
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return parse
