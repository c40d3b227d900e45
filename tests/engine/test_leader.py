"""`phased engine run` takes the leader lock: of several engines (or serve), one decides.

Real processes on one database: each engine logs a JSON line per decision on
its own standard error (``engine_decision``, debug level), so a follower that
decided even once would show it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from phased.service import plan_rollouts as pr
from phased.store.engine import open_store
from service.rollout_fixtures import PLAN, seed_people

PHASED = str(Path(sys.executable).with_name("phased"))
ENVIRONMENTS = ("dev", "staging", "prod")


class _Process:
    """A running phased command whose output goes to files we can poll."""

    def __init__(self, args: list[str], env: dict[str, str], where: Path, name: str) -> None:
        self.out, self.err = where / f"{name}.out", where / f"{name}.err"
        self.name = name
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [PHASED, *args], env=env, cwd=where, stdout=out, stderr=err
            )

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def decisions(self) -> int:
        return self.err.read_text(errors="replace").count('"engine_decision"')

    def leading(self) -> bool:
        lines = [ln for ln in self.stdout().splitlines() if ln.startswith(("leading", "follow"))]
        return bool(lines) and lines[-1] == "leading"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _leader_says(port: int) -> bool | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.HTTPError:
        return None
    return bool(response.json()["leader"]) if response.status_code == 200 else None


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[[str, str, list[str]], _Process]]:
    """Start phased commands on one database; every one is stopped at the end."""
    started: list[_Process] = []

    def start(url: str, name: str, args: list[str]) -> _Process:
        env = {
            **os.environ,
            "PHASED_DATABASE_URL": url,
            "PHASED_LEADER_POLL_SECONDS": "0.3",
            "PHASED_ENGINE_INTERVAL_SECONDS": "0.3",
            "PHASED_LOG_LEVEL": "debug",
            "PHASED_JSON_LOGGING": "true",
            "PHASED_EXAMPLES_DIR": str(tmp_path / "no-examples"),
        }
        for name_ in ("PHASED_SERVER", "PHASED_TOKEN", "PHASED_DB"):
            env.pop(name_, None)
        process = _Process(args, env, tmp_path, name)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def _going_rollout(url: str) -> None:
    with open_store(url, environments=ENVIRONMENTS) as store:
        seed_people(store)
        pr.apply_plan(store, actor="alice", text=PLAN)


ENGINE = ["engine", "run", "--interval", "0.3s"]


def _one_leads(first: _Process, second: _Process) -> tuple[_Process, _Process]:
    _until(lambda: first.leading() or second.leading(), 30, "one engine leads")
    leader, follower = (first, second) if first.leading() else (second, first)
    _until(lambda: leader.decisions() >= 3, 10, "the leader decides")
    return leader, follower


def _hand_over(leader: _Process, follower: _Process) -> None:
    time.sleep(1.0)  # several passes and election rounds with both running
    assert not follower.leading()
    assert follower.decisions() == 0, "the follower decided while another engine led"
    leader.proc.kill()  # no goodbye: the lock must go with the process
    leader.proc.wait(timeout=5)
    _until(lambda: follower.decisions() > 0, 10, "the follower takes over after the leader died")
    assert follower.leading()


class TestTwoEnginesOnSqlite:
    """Two `phased engine run` on one SQLite file: the file lock lets one decide."""

    @pytest.mark.slow
    def test_one_decides_then_the_other_takes_over(
        self, sqlite_url: str, launch: Callable[[str, str, list[str]], _Process]
    ) -> None:
        _going_rollout(sqlite_url)
        first, second = launch(sqlite_url, "a", ENGINE), launch(sqlite_url, "b", ENGINE)
        leader, follower = _one_leads(first, second)
        _hand_over(leader, follower)


@pytest.mark.postgres
@pytest.mark.slow
class TestEnginesAndServeOnPostgres:
    """On PostgreSQL, engines and `phased serve` share one advisory lock: one decides."""

    def test_two_engines(
        self, postgres_schema_url: str, launch: Callable[[str, str, list[str]], _Process]
    ) -> None:
        _going_rollout(postgres_schema_url)
        first = launch(postgres_schema_url, "a", ENGINE)
        second = launch(postgres_schema_url, "b", ENGINE)
        leader, follower = _one_leads(first, second)
        _hand_over(leader, follower)

    def test_an_engine_and_serve(
        self, postgres_schema_url: str, launch: Callable[[str, str, list[str]], _Process]
    ) -> None:
        _going_rollout(postgres_schema_url)
        engine = launch(postgres_schema_url, "engine", ENGINE)
        _until(engine.leading, 30, "the engine leads")
        port = _free_port()
        launch(postgres_schema_url, "serve", ["serve", "--port", str(port)])
        _until(lambda: _leader_says(port) is not None, 30, "serve answers /healthz")
        decided = engine.decisions()
        time.sleep(1.0)
        assert _leader_says(port) is False
        assert engine.decisions() > decided  # the engine keeps deciding; serve does not
        engine.proc.kill()
        engine.proc.wait(timeout=5)
        _until(lambda: _leader_says(port) is True, 10, "serve leads once the engine died")
        # And now a new engine follows instead of deciding beside serve.
        late = launch(postgres_schema_url, "late", ENGINE)
        _until(lambda: "following" in late.stdout(), 30, "the new engine follows")
        time.sleep(1.0)
        assert late.decisions() == 0


class TestOnce:
    """`engine run --once` refuses while another process leads, instead of deciding beside it."""

    def test_refused_while_another_leads(
        self, sqlite_url: str, launch: Callable[[str, str, list[str]], _Process]
    ) -> None:
        from phased.store.leader_lock import lock_for

        _going_rollout(sqlite_url)
        with open_store(sqlite_url, environments=ENVIRONMENTS) as store:
            held = lock_for(store)
            assert held.try_acquire()
            try:
                once = launch(sqlite_url, "once", ["engine", "run", "--once"])
                assert once.proc.wait(timeout=30) == 1
                assert "holds the leader lock" in once.err.read_text()
                assert once.decisions() == 0
            finally:
                held.release()
            again = launch(sqlite_url, "again", ["engine", "run", "--once"])
            assert again.proc.wait(timeout=30) == 0
            assert "awf_bundle: hold" in again.stdout()
