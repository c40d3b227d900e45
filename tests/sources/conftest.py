"""Real servers for the metric source tests: a JSON endpoint, a metrics endpoint, Prometheus.

Prometheus is Debian's ``prometheus`` package, started here on a free port with
a 1-second scrape of a ``/metrics`` endpoint this process serves. Without the
binary the tests skip, except under ``CI=true`` where they fail (.ci/run
installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from phased.testing import FrozenClock


@dataclass
class Answer:
    """How the server answers one path: a status and a JSON (or raw) body, or a hang."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApp:
    """A real HTTP server on 127.0.0.1: scripted JSON answers and a Prometheus ``/metrics``."""

    answers: dict[str, Answer] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def exposition(self) -> bytes:
        lines = [f"{name} {value}" for name, value in sorted(self.metrics.items())]
        return ("\n".join(lines) + "\n").encode()


def _serve(app: FakeApp) -> Iterator[FakeApp]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length", 0) or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            app.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            if self.path.startswith("/metrics"):
                payload, status, ctype = app.exposition(), 200, "text/plain; version=0.0.4"
            else:
                answer = app.answers.get(self.path.split("?")[0], Answer(status=404, body={}))
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
                status, ctype = answer.status, "application/json"
            try:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (a time-out test)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app() -> Iterator[FakeApp]:
    """A fresh scripted HTTP server for one test."""
    yield from _serve(FakeApp())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_binary(name: str) -> str:
    """The path of a system binary; skip without it, fail under CI=true."""
    found = shutil.which(name)
    if found is not None:
        return found
    reason = f"{name} not installed (Debian: apt-get install {name})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true: .ci/run must install it")
    pytest.skip(reason)


@dataclass
class PrometheusServer:
    url: str
    target: FakeApp

    def query(self, promql: str) -> Any:
        return httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5).json()

    def wait_for(self, promql: str, value: float, timeout: float = 20.0) -> None:
        """Wait until an instant query answers ``value`` (a scrape or two after a change)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.query(promql)
            result = last.get("data", {}).get("result", [])
            if result and abs(float(result[0]["value"][1]) - value) < 1e-9:
                return
            time.sleep(0.2)
        raise AssertionError(f"prometheus never answered {value} for {promql}: {last}")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping a local /metrics endpoint every second."""
    binary = require_binary("prometheus")
    for target in _serve(FakeApp()):
        root: Path = tmp_path_factory.mktemp("prometheus")
        port = free_port()
        host = target.url.removeprefix("http://")
        (root / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: app\n    static_configs: [{{targets: ['{host}']}}]\n"
        )
        log = (root / "prometheus.log").open("w")
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = PrometheusServer(f"http://127.0.0.1:{port}", target)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "prometheus did not start: " + (root / "prometheus.log").read_text()[-2000:]
                    )
                time.sleep(0.1)
            server.wait_for('up{job="app"}', 1.0)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@pytest.fixture
def clock() -> FrozenClock:
    """The store's clock at the real time: Prometheus answers about now, not a fixed date."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))
