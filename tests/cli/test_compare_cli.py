"""``phased compare``: list mismatch samples, resolve one (audited), refusals in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.testing import Result

from phased.service.compare import record_mismatch
from phased.store.engine import open_store

from .conftest import Run


def _seed(db: str) -> int:
    with open_store(db) as store:
        return record_mismatch(
            store,
            {
                "flag": "unified_pipeline",
                "environment": "prod",
                "stage": "parallel",
                "mode": "shadow",
                "context": {"user": "issue-3"},
                "old": ["bug"],
                "new": ["bug", "dup"],
                "diff": ['+ [1]: "dup"'],
            },
        )


class TestCompareCli:
    """Samples are listed with their diff; resolving needs an actor and a note."""

    def test_list_and_resolve(self, run: Run, db: str, loads: Callable[[Result], Any]) -> None:
        mid = _seed(db)
        listed = run("compare", "mismatches", "unified_pipeline")
        assert listed.exit_code == 0
        assert f"#{mid} " in listed.stdout
        assert '    + [1]: "dup"' in listed.stdout
        assert run("compare", "resolve", str(mid), "--note", "ok").exit_code == 2  # no actor
        done = run("compare", "resolve", str(mid), "--note", "dedup is intended", "--actor", "pat")
        assert done.exit_code == 0
        assert loads(run("compare", "mismatches", "unified_pipeline", json=True)) == []
        everything = loads(run("compare", "mismatches", "unified_pipeline", "--all", json=True))
        assert (everything[0]["resolved_by"], everything[0]["note"]) == ("pat", "dedup is intended")
        audit = loads(run("audit", "recent", json=True))
        assert audit[0]["action"] == "compare.resolve"

    def test_refusals(self, run: Run, db: str) -> None:
        missing = run("compare", "resolve", "42", "--note", "x", "--actor", "pat")
        assert missing.exit_code == 1
        assert missing.stderr == "error: id: no mismatch 42\n"
        empty = run("compare", "mismatches", "nothing")
        assert "no open mismatch kept for nothing" in empty.stdout
