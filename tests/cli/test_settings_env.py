"""``PHASED_*`` settings: comma lists and JSON lists both work; a bad value is one line (repro 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from phased.errors import ConfigurationError
from phased.settings import load_settings

PHASED = str(Path(sys.executable).with_name("phased"))


def _phased(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
    clean.update({"PHASED_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", **env})
    return subprocess.run(
        [PHASED, *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestEnvironments:
    """PHASED_ENVIRONMENTS as docs/cli.md writes it, and as a JSON list."""

    @pytest.mark.parametrize(
        "value", ["dev,prod", " dev , prod ", '["dev", "prod"]', "dev,prod,", "dev,,prod"]
    )
    def test_forms(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PHASED_ENVIRONMENTS", value)
        assert load_settings().environments == ("dev", "prod")

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            (",", "no environment named"),
            ("[dev", "not a JSON list"),
            ('{"a": 1}', "is not an environment name"),
            ("[1, 2]", "JSON list of environment names"),
            ("dev prod", "'dev prod' is not an environment name"),
            ("dev,dev", "named twice"),
            ("", "no environment named"),
        ],
    )
    def test_bad_values_name_the_variable(
        self, value: str, says: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PHASED_ENVIRONMENTS", value)
        with pytest.raises(ConfigurationError) as caught:
            load_settings()
        assert str(caught.value).startswith("PHASED_ENVIRONMENTS: ")
        assert says in str(caught.value)

    def test_comma_list_through_the_cli(self, tmp_path: Path) -> None:
        """Repro 13: `PHASED_ENVIRONMENTS=dev,prod phased flag list` crashed with a traceback."""
        created = _phased(
            tmp_path, "flag", "create", "awf", "--actor", "a", PHASED_ENVIRONMENTS="dev,prod"
        )
        assert created.returncode == 0, created.stderr
        listed = _phased(tmp_path, "flag", "list", "--json", PHASED_ENVIRONMENTS="dev,prod")
        assert listed.returncode == 0, listed.stderr
        assert '"awf"' in listed.stdout

    @pytest.mark.parametrize(
        ("name", "value"),
        [("PHASED_ENVIRONMENTS", "dev,dev"), ("PHASED_LEADER_POLL_SECONDS", "abc")],
    )
    def test_bad_value_is_one_line_exit_1(self, tmp_path: Path, name: str, value: str) -> None:
        result = _phased(tmp_path, "flag", "list", **{name: value})
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"error: {name}: {value!r}")
        assert "Traceback" not in result.stderr
