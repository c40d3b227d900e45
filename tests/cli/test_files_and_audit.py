"""``phased flags export/apply``, ``phased audit``, ``phased demo``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import Result

from phased.core.flagfile import parse_flagset
from phased.store.engine import open_store

_EXAMPLE = parse_flagset((Path(__file__).parents[2] / "examples" / "flags.yaml").read_text("utf-8"))
EXAMPLE_ENTITIES = len(_EXAMPLE.flags) + len(_EXAMPLE.segments)

Run = Callable[..., Result]
Loads = Callable[[Result], Any]
EXAMPLE = Path(__file__).parents[2] / "examples" / "flags.yaml"
A = ("--actor", "gitops")


class TestFlagsFile:
    """export and apply are inverse; apply shows its diff; --dry-run writes nothing."""

    def test_apply_dry_run_then_apply(self, run: Run, dump: Callable[[], Any]) -> None:
        before = dump()
        dry = run("flags", "apply", str(EXAMPLE), "--dry-run")
        assert dry.exit_code == 0, dry.stderr
        assert "+ flag awf_bundle (created)" in dry.stdout
        assert f"dry run: {EXAMPLE_ENTITIES} changes not applied" in dry.stdout
        assert dump() == before
        applied = run("flags", "apply", str(EXAMPLE), *A)
        assert f"applied {EXAMPLE_ENTITIES} changes" in applied.stdout
        again = run("flags", "apply", str(EXAMPLE), *A)
        assert "no changes" in again.stdout

    def test_export_apply_round_trip(
        self, run: Run, dump: Callable[[], Any], tmp_path: Path
    ) -> None:
        run("flags", "apply", str(EXAMPLE), *A)
        run("rollout", "set", "awf_bundle", "--percent", "50", "--env", "prod", *A)
        exported = run("flags", "export")
        assert exported.exit_code == 0
        (tmp_path / "out.yaml").write_text(exported.stdout)
        before = dump()
        result = run("flags", "apply", "out.yaml", *A)
        assert "no changes" in result.stdout
        assert dump() == before

    def test_edit_shows_field_diff(self, run: Run, loads: Loads, tmp_path: Path) -> None:
        run("flags", "apply", str(EXAMPLE), *A)
        edited = EXAMPLE.read_text().replace("rollout: 25", "rollout: 50")
        (tmp_path / "edited.yaml").write_text(edited)
        plan = loads(run("flags", "apply", "edited.yaml", "--dry-run", json=True))
        assert plan["applied"] is False
        assert plan["changes"][0]["lines"] == [
            "~ flag awf_bundle: environments.prod.rollout: 25 -> 50"
        ]
        result = run("flags", "apply", "edited.yaml", *A)
        assert "environments.prod.rollout: 25 -> 50" in result.stdout
        entries = loads(run("audit", "recent", "--action", "flags.apply", "-n", "1", json=True))
        assert entries[0]["details"]["source"] == "edited.yaml"

    def test_export_one_environment(self, run: Run, tmp_path: Path) -> None:
        run("flags", "apply", str(EXAMPLE), *A)
        result = run("flags", "export", "--env", "prod", "--output", "prod.yaml")
        assert result.exit_code == 0
        content = (tmp_path / "prod.yaml").read_text()
        assert "prod:" in content
        assert "staging:" not in content.split("flags:", 1)[1]


class TestAudit:
    """recent with filters, verify, export as JSON lines."""

    def _history(self, run: Run) -> None:
        run("flag", "create", "awf_bundle", "--actor", "alice")
        run("rollout", "set", "awf_bundle", "--percent", "5", "--env", "prod", "--actor", "bob")
        run(
            "override",
            "set",
            "awf_bundle",
            "--user",
            "u1",
            "--enable",
            "--env",
            "prod",
            "--actor",
            "bob",
        )

    def test_recent_filters(self, run: Run, loads: Loads) -> None:
        self._history(run)
        entries = loads(run("audit", "recent", json=True))
        assert [e["action"] for e in entries] == ["override.set", "rollout.set", "flag.create"]
        assert len(loads(run("audit", "recent", "--actor", "bob", json=True))) == 2
        assert len(loads(run("audit", "recent", "--action", "override.", json=True))) == 1
        assert len(loads(run("audit", "recent", "--entity", "awf_bundle", json=True))) == 3
        assert len(loads(run("audit", "recent", "--since", "1h", json=True))) == 3
        assert loads(run("audit", "recent", "--until", "2000-01-01", json=True)) == []
        assert "rollout.set" in run("audit", "recent").stdout

    def test_verify_and_export(self, run: Run, loads: Loads, db: str) -> None:
        self._history(run)
        assert "audit chain ok: 3 entries" in run("audit", "verify").stdout
        exported = run("audit", "export")
        lines = [json.loads(line) for line in exported.stdout.splitlines()]
        assert [e["id"] for e in lines] == [1, 2, 3]
        assert lines[1]["prev_hash"] == lines[0]["hash"]
        assert loads(run("audit", "verify", json=True))["head"] == lines[-1]["hash"]

    def test_verify_names_a_hand_edited_entry(self, run: Run, db: str) -> None:
        self._history(run)
        with open_store(db) as store, store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
        result = run("audit", "verify")
        assert result.exit_code == 1
        assert result.stderr.startswith("error: audit_log[2]: audit chain broken at entry 2")
        assert len(result.stderr.splitlines()) == 1


class TestDemo:
    """``phased demo`` (what ``make run`` calls) loads the seeds' flags once."""

    def test_demo(self, run: Run) -> None:
        first = run("demo", "--file", str(EXAMPLE))
        assert first.exit_code == 0, first.stderr
        assert "loaded" in first.stdout
        assert "awf_bundle" in first.stdout
        assert f"audit chain ok: {EXAMPLE_ENTITIES} entries" in first.stdout
        assert "Usage: phased" in first.stdout
        second = run("demo", "--file", str(EXAMPLE))
        assert "loaded" not in second.stdout


class TestDurationGrammar:
    """``override --expires 1h30m`` and ``audit --since 90s`` read like plan durations."""

    def test_compound_and_seconds(self, run: Run, loads: Loads) -> None:
        assert run("flag", "create", "awf_bundle", "--actor", "admin").exit_code == 0
        set_ = run(
            "override", "set", "awf_bundle", "--user", "u1", "--enable",
            "--expires", "1h30m", "--env", "prod", "--actor", "admin",
        )  # fmt: skip
        assert set_.exit_code == 0, set_.stderr
        assert loads(run("override", "list", "awf_bundle", json=True))[0]["expires"] is not None
        assert len(loads(run("audit", "recent", "--since", "90s", json=True))) == 2
