"""Several replicas: exactly one runs the engine; when it dies another takes over within 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from phased.engine.leader import LeaderElection
from phased.store.leader_lock import FileLock

if TYPE_CHECKING:
    from collections.abc import Iterator

PHASED = str(Path(sys.executable).with_name("phased"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _health(port: int) -> dict[str, object] | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.HTTPError:
        return None
    return dict(response.json()) if response.status_code == 200 else None


@pytest.fixture
def replicas(
    postgres_schema_url: str, tmp_path: Path
) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """Two real `phased serve` processes on one PostgreSQL database."""
    env = {
        **os.environ,
        "PHASED_DATABASE_URL": postgres_schema_url,
        "PHASED_LEADER_POLL_SECONDS": "0.5",
        "PHASED_ENGINE_INTERVAL_SECONDS": "1",
        "PHASED_EXAMPLES_DIR": str(tmp_path / "no-examples"),
        "PHASED_LOG_LEVEL": "warning",
    }
    env.pop("PHASED_SERVER", None)
    env.pop("PHASED_TOKEN", None)
    started = []
    for _ in range(2):
        port = _free_port()
        proc = subprocess.Popen(
            [PHASED, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append((port, proc))
    try:
        deadline = time.monotonic() + 30
        while not all(_health(port) for port, _ in started):
            if time.monotonic() > deadline:
                raise AssertionError("replicas did not start")
            time.sleep(0.1)
        yield started
    finally:
        for _, proc in started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _leaders(replicas: list[tuple[int, subprocess.Popen[bytes]]]) -> list[int]:
    out = []
    for port, proc in replicas:
        health = _health(port) if proc.poll() is None else None
        if health and health["leader"]:
            out.append(port)
    return out


@pytest.mark.postgres
@pytest.mark.slow
class TestReplicasOnPostgres:
    """Two processes on PostgreSQL: one leader; killing it hands leadership over."""

    def test_one_leader_then_failover(
        self, replicas: list[tuple[int, subprocess.Popen[bytes]]]
    ) -> None:
        deadline = time.monotonic() + 10
        while len(leaders := _leaders(replicas)) != 1:
            assert time.monotonic() < deadline, f"leaders: {leaders}"
            time.sleep(0.1)
        time.sleep(1.5)  # a few election rounds later, still exactly one
        assert _leaders(replicas) == leaders
        (leader_port,) = leaders
        leader = next(p for port, p in replicas if port == leader_port)
        leader.kill()
        killed_at = time.monotonic()
        leader.wait(timeout=5)
        while True:
            now = _leaders(replicas)
            if now:
                break
            assert time.monotonic() - killed_at < 10, "no replica took over within 10 s"
            time.sleep(0.1)
        assert now != [leader_port]
        assert len(now) == 1


class TestFileLock:
    """On SQLite a file lock beside the database lets one process lead."""

    def test_second_holder_waits_until_the_first_releases(self, tmp_path: Path) -> None:
        first, second = FileLock(tmp_path / "x.leader"), FileLock(tmp_path / "x.leader")
        changes: list[bool] = []
        election = LeaderElection(second, changes.append, poll_seconds=0.05)
        assert first.try_acquire()
        assert not election.round()
        first.release()
        assert election.round()
        assert changes == [True]
        election.stop()
        assert changes == [True, False]
