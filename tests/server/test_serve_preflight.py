"""`phased serve` checks what it needs before it changes anything (issue 9, repros 7 and 14).

Real processes: a refused start is one line on stderr, exit 1, no token on
stdout and no file left behind; a ``--no-engine`` replica never takes the
leader lock, so ``phased engine run`` on the same database can lead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PHASED = str(Path(sys.executable).with_name("phased"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
    clean.pop("ENABLE_ALERTS", None)
    return {
        **clean,
        "PHASED_DATABASE_URL": f"sqlite:///{tmp_path / 'work' / 'phased.db'}",
        "PHASED_EXAMPLES_DIR": str(tmp_path / "no-examples"),
        **extra,
    }


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PHASED, "serve", *args],
        env=_env(tmp_path, **env),
        cwd=tmp_path / "work",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def _refused(result: subprocess.CompletedProcess[str], work: Path, says: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # no token
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]
    assert "phased serving" not in result.stderr
    assert sorted(p.name for p in work.iterdir()) == []  # nothing created


class TestPreflight:
    """Busy port, unwritable database path, bad settings: refused before anything exists."""

    def test_busy_port(self, tmp_path: Path, work: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = _serve(tmp_path, "--port", str(port))
        _refused(result, work, f"port: {port} on 127.0.0.1 is already in use")

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("sqlite:////sys/phased.db", "cannot create files in /sys"),
            ("sqlite:////nonexistent-dir/phased.db", "does not exist"),
        ],
    )
    def test_unwritable_database_path(
        self, tmp_path: Path, work: Path, url: str, says: str
    ) -> None:
        result = _serve(tmp_path, "--port", str(_free_port()), PHASED_DATABASE_URL=url)
        _refused(result, work, says)

    def test_read_only_database_file(self, tmp_path: Path, work: Path) -> None:
        if os.geteuid() == 0:
            pytest.skip("root writes read-only files; /sys covers the unwritable case")
        db = tmp_path / "ro.db"
        db.write_bytes(b"")
        db.chmod(0o444)
        result = _serve(tmp_path, PHASED_DATABASE_URL=f"sqlite:///{db}")
        _refused(result, work, "cannot write the SQLite file")

    @pytest.mark.parametrize(
        ("name", "value", "says"),
        [
            ("PHASED_PORT", "abc", "PHASED_PORT: 'abc'"),
            ("PHASED_PORT", "70000", "PHASED_PORT: '70000'"),
            ("PHASED_ENVIRONMENTS", "dev,dev", "PHASED_ENVIRONMENTS: 'dev,dev'"),
            ("PHASED_ENGINE_INTERVAL_SECONDS", "-1", "PHASED_ENGINE_INTERVAL_SECONDS"),
            ("ENABLE_ALERTS", "true", "no alert channel is configured"),
        ],
    )
    def test_bad_setting(
        self, tmp_path: Path, work: Path, name: str, value: str, says: str
    ) -> None:
        port = [] if name == "PHASED_PORT" else ["--port", str(_free_port())]
        result = _serve(tmp_path, *port, **{name: value})
        _refused(result, work, says)


def _health(port: int) -> dict[str, object] | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.HTTPError:
        return None
    return dict(response.json()) if response.status_code == 200 else None


@pytest.fixture
def no_engine(tmp_path: Path, work: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """A real `phased serve --no-engine` on a SQLite file."""
    port = _free_port()
    env = _env(tmp_path, PHASED_LEADER_POLL_SECONDS="0.2")
    proc = subprocess.Popen(
        [PHASED, "serve", "--no-engine", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while _health(port) is None:
            assert proc.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield port, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


class TestNoEngine:
    """Repro 14: `serve --no-engine` never leads, so `engine run` on the same store can."""

    def test_engine_run_leads_beside_it(
        self, no_engine: tuple[int, dict[str, str]], work: Path
    ) -> None:
        port, env = no_engine
        time.sleep(1.0)  # several leader-poll rounds: a replica that competed would hold it now
        assert _health(port) == {**(_health(port) or {}), "leader": False}
        engine = subprocess.run(
            [PHASED, "engine", "run", "--once"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert engine.returncode == 0, engine.stderr
        assert "leader lock" not in engine.stderr
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "phased_engine_leader 0.0" in metrics
