"""At most once per channel, with two real worker processes (issue 9, repros 10 and 11).

Two ``phased alerts deliver`` loops share one outbox (SQLite, then PostgreSQL)
and post to a real receiver on 127.0.0.1 that hangs on some alerts for longer
than the lease and refuses others once (flapping). Every alert must be
accepted exactly once: a post is only started after its claim was renewed
for as long as that post can take, so a second worker can never take an
alert whose post is still in flight. And a 429's ``retry_after`` counts from
the moment the 429 arrived.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from phased.alerts.config import parse_alerts_config
from phased.alerts.model import Alert, Severity
from phased.alerts.worker import AlertWorker
from phased.store import open_store
from phased.store.engine import Store
from phased.store.outbox import Outbox, enqueue

PHASED = str(Path(sys.executable).with_name("phased"))
ALERTS = 10
HANG_SECONDS = 2.0  # longer than the 1 s lease below


@dataclass
class Seen:
    """One POST as the receiver saw it."""

    message: str
    status: int
    received: float
    answered: float = 0.0


@dataclass
class FlappingReceiver:
    """Hangs on every third alert, refuses every fourth once with a 500, accepts the rest."""

    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    script: dict[str, list[tuple[int, float, dict[str, str]]]] = field(default_factory=dict)

    def reply(self, message: str) -> tuple[int, float, dict[str, str]]:
        with self.lock:
            if self.script.get(message):
                return self.script[message].pop(0)
            number = int(message.rsplit(" ", 1)[1])
            earlier = [s for s in self.seen if s.message == message]
            if number % 4 == 1 and not earlier:
                return 500, 0.0, {}
            return 204, HANG_SECONDS if number % 3 == 0 else 0.0, {}

    def accepted(self) -> Counter[str]:
        with self.lock:
            return Counter(s.message for s in self.seen if 200 <= s.status < 300)


@pytest.fixture
def receiver() -> Iterator[tuple[FlappingReceiver, str]]:
    state = FlappingReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received = time.monotonic()
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            status, hang, headers = state.reply(body["message"])
            seen = Seen(body["message"], status, received)
            with state.lock:
                state.seen.append(seen)
            time.sleep(hang)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()
            seen.answered = time.monotonic()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield state, f"http://{host!s}:{port}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _config(url: str) -> dict[str, Any]:
    return {
        "channels": {"hook": {"kind": "webhook", "url": url, "timeout_seconds": 5}},
        "dedup_window_seconds": 0,
        "lease_seconds": 1,
        "batch_size": ALERTS,
        "retry": {"max_attempts": 5, "base_delay_seconds": 0.2, "max_delay_seconds": 1},
    }


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on the wall clock (the workers are real processes)."""
    opened = open_store(database_url, environments=("dev", "prod"))
    try:
        yield opened
    finally:
        opened.close()


class TestTwoWorkerProcesses:
    """`phased alerts deliver` twice, a hanging and flapping receiver: each alert once."""

    def test_each_alert_accepted_exactly_once(
        self,
        store: Store,
        database_url: str,
        receiver: tuple[FlappingReceiver, str],
        tmp_path: Path,
    ) -> None:
        state, url = receiver
        config = tmp_path / "alerts.json"
        config.write_text(json.dumps(_config(url)))
        with store.write() as conn:
            for i in range(ALERTS):
                enqueue(conn, Alert(severity=Severity.CRITICAL, message=f"alert {i}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
        env.update({"ENABLE_ALERTS": "true", "PHASED_TRACE_FILE": str(tmp_path / "t.jsonl")})
        command = [PHASED, "alerts", "deliver", "--config", str(config), "--db", database_url]
        workers = [
            subprocess.Popen(
                [*command, "--poll", "0.05"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        outbox = Outbox(store.engine)
        try:
            deadline = time.monotonic() + 90
            while outbox.counts()["delivered"] < ALERTS:
                assert all(w.poll() is None for w in workers), "a worker exited"
                assert time.monotonic() < deadline, outbox.counts()
                time.sleep(0.1)
            time.sleep(1.5)  # a late duplicate would arrive now
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
        accepted = state.accepted()
        assert accepted == Counter({f"alert {i}": 1 for i in range(ALERTS)})
        hung = [s for s in state.seen if s.message.endswith((" 0", " 3", " 6", " 9"))]
        assert all(s.answered - s.received >= HANG_SECONDS - 0.1 for s in hung if s.status == 204)
        flapped = [s.message for s in state.seen if s.status == 500]
        assert sorted(flapped) == ["alert 1", "alert 5", "alert 9"]


class TestRetryAfter:
    """A 429's retry_after is honoured from the moment the 429 arrived (repro 11)."""

    def test_pause_counts_from_the_answer(
        self, store: Store, receiver: tuple[FlappingReceiver, str], tmp_path: Path
    ) -> None:
        state, url = receiver
        # alert 10 hangs 1 s, then alert 20 gets a 429 asking for 1.5 s.
        state.script["alert 10"] = [(204, 1.0, {})]
        state.script["alert 20"] = [(429, 0.0, {"Retry-After": "1.5"}), (204, 0.0, {})]
        with store.write() as conn:
            for i in (10, 20):
                enqueue(conn, Alert(severity=Severity.CRITICAL, message=f"alert {i}"))
        config = parse_alerts_config({**_config(url), "lease_seconds": 30})
        with httpx.Client() as http:
            worker = AlertWorker(
                config,
                Outbox(store.engine),
                enabled=True,
                http=http,
                clock=lambda: datetime.now(UTC),
            )
            stop = threading.Event()
            thread = threading.Thread(
                target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 0.05}
            )
            thread.start()
            try:
                deadline = time.monotonic() + 30
                while state.accepted()["alert 20"] < 1:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            finally:
                stop.set()
                thread.join(10)
        posts = [s for s in state.seen if s.message == "alert 20"]
        assert [p.status for p in posts] == [429, 204]
        assert posts[1].received - posts[0].answered >= 1.45
