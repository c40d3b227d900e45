"""Bad input: one line on stderr naming field and fix, exit 1, the store unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

FLAGS = """\
segments:
  staff: {where: 'role in [admin, pm]'}
flags:
  awf_bundle:
    env_var: AWF_BUNDLE_ON
    environments:
      prod: {rollout: 25, rules: [{segment: staff}]}
"""

A = ("--actor", "admin")
P = ("--env", "prod", *A)

CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("invalid key", ("flag", "create", "Bad Key", *A), "key: invalid flag key 'Bad Key'"),
    (
        "percent 101",
        ("rollout", "set", "awf_bundle", "--percent", "101", *P),
        "percent: must be between 0 and 100 (got 101.0)",
    ),
    (
        "percent -1",
        ("rollout", "set", "awf_bundle", "--percent", "-1", *P),
        "percent: must be between 0 and 100 (got -1.0)",
    ),
    (
        "three decimals",
        ("rollout", "set", "awf_bundle", "--percent", "12.345", *P),
        "percent: has at most two decimals",
    ),
    (
        "unknown env",
        ("rollout", "set", "awf_bundle", "--percent", "5", "--env", "qa", *A),
        "env: unknown environment 'qa'; use one of: dev, staging, prod",
    ),
    ("unknown flag", ("flag", "enable", "nope", *P), "flag: no flag 'nope'"),
    (
        "user and session",
        ("override", "set", "awf_bundle", "--user", "u1", "--session", "s1", "--enable", *P),
        "target: give exactly one of --user, --session or --attr",
    ),
    (
        "expiry in the past",
        (
            "override",
            "set",
            "awf_bundle",
            "--user",
            "u1",
            "--enable",
            "--expires",
            "2020-01-01T00:00:00Z",
            *P,
        ),
        "expires: 2020-01-01T00:00:00+00:00 is in the past",
    ),
    (
        "unreadable expiry",
        ("override", "set", "awf_bundle", "--user", "u1", "--enable", "--expires", "soon", *P),
        "expires: cannot read 'soon'",
    ),
    (
        "bad where",
        ("segment", "create", "x", "--where", "role is admin", *A),
        "where: unknown operator 'is'",
    ),
    (
        "segment in use",
        ("segment", "delete", "staff", *A),
        "segment 'staff' is used by awf_bundle@prod rules[0]",
    ),
    (
        "duplicate flag",
        ("flag", "create", "awf_bundle", *A),
        "key: flag 'awf_bundle' exists already",
    ),
    (
        "bad variants",
        ("flag", "create", "x", "--variants", "a=60,b=60", *A),
        "variants: variant weights must sum to 100 (got 120)",
    ),
    (
        "clear a missing pin",
        ("override", "clear", "awf_bundle", "--user", "ghost", *P),
        "override: flag 'awf_bundle' has no override for user=ghost in prod",
    ),
]


@pytest.fixture
def seeded(run: Run, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(FLAGS)
    assert run("flags", "apply", str(tmp_path / "seed.yaml"), *A).exit_code == 0


class TestRefusals:
    """Each case from the issue's "Bad input" list."""

    @pytest.mark.usefixtures("seeded")
    @pytest.mark.parametrize(("name", "args", "message"), CASES, ids=[c[0] for c in CASES])
    def test_refused(
        self,
        run: Run,
        dump: Callable[[], dict[str, Any]],
        name: str,
        args: tuple[str, ...],
        message: str,
    ) -> None:
        before = dump()
        result = run(*args)
        assert result.exit_code == 1, (name, result.stdout, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"error: {message}"), lines[0]
        assert dump() == before

    @pytest.mark.usefixtures("seeded")
    @pytest.mark.parametrize(
        ("text", "where"),
        [
            (
                "flags:\n  x:\n    environments:\n      prod: {rollout: 101}\n",
                "f.yaml:4: flags.x.environments.prod.rollout: must be between 0 and 100",
            ),
            (
                "flags:\n  x:\n    environments:\n      prod:\n        rules: [{segment: admins}]\n",
                "f.yaml:5: flags.x.environments.prod.rules[0].segment: unknown segment 'admins'",
            ),
            ("flags:\n  x: {description: [unclosed\n", "f.yaml:3: invalid YAML"),
            ("flags:\n  Bad Key: {}\n", "f.yaml:2: flags.Bad Key"),
            (
                "environments: [dev, qa]\nflags: {x: {}}\n",
                "environments: the file declares environment(s) qa",
            ),
        ],
    )
    def test_bad_flags_file(
        self, run: Run, dump: Callable[[], dict[str, Any]], tmp_path: Path, text: str, where: str
    ) -> None:
        (tmp_path / "f.yaml").write_text(text)
        before = dump()
        result = run("flags", "apply", "f.yaml", *A)
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"error: {where}"), result.stderr
        assert dump() == before

    def test_usage_errors_exit_2(self, run: Run) -> None:
        assert run("flag", "frobnicate").exit_code == 2
        lots = run("rollout", "set", "x", "--percent", "lots", *P)
        assert lots.exit_code == 2
        assert lots.stderr == (  # one line, not a usage panel (issue 9)
            "error: percent: 'lots' is not a number; give 0..100, e.g. --percent 25\n"
        )
        assert run("rollout", "set", "x", *P).exit_code == 2  # --percent missing

    def test_missing_file(self, run: Run) -> None:
        result = run("flags", "apply", "nowhere.yaml", *A)
        assert (result.exit_code, result.stderr) == (
            1,
            "error: file: no such file 'nowhere.yaml'\n",
        )

    def test_unreachable_database(self, run: Run) -> None:
        from typer.testing import CliRunner

        from phased.cli.main import app

        result = CliRunner().invoke(
            app,
            ["flag", "list", "--db", "postgresql+psycopg://u:pw@127.0.0.1:1/x?connect_timeout=2"],
        )
        assert result.exit_code == 1
        assert result.stderr.startswith("error: database_url: cannot open the store")
        assert "pw" not in result.stderr

    def test_database_failure_mid_command_is_one_line(self, run: Run, db: str) -> None:
        """A failure the store does not understand (here a table dropped behind its back)
        still ends in one line naming the database, not a traceback."""
        import sqlite3

        assert run("flag", "create", "awf", *A).exit_code == 0
        with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE flag_states")
        result = run("flag", "list")
        assert result.exit_code == 1
        assert result.stderr == "error: database: OperationalError: no such table: flag_states\n"
