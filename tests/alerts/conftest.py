"""A real HTTP receiver on 127.0.0.1 and a fake clock for the alert tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest


@dataclass
class Post:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    """How the receiver answers one request: a status, a body, headers, or a hang."""

    status: int = 204
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class Receiver:
    """Records every POST; answers from a per-path script, then with ``default``."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.default = Reply()
        self._script: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                reply = receiver._record(self.path, dict(self.headers.items()), raw)
                if reply.hang:
                    receiver.release.wait(10)
                    return
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                if payload:
                    self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _record(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        with self._lock:
            body = json.loads(raw) if raw else None
            self.posts.append(Post(path=path, headers=headers, body=body))
            queue = self._script.get(path)
            return queue.pop(0) if queue else self.default

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``path`` with ``replies``, in order."""
        with self._lock:
            self._script.setdefault(path, []).extend(replies)

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this receiver."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def to(self, path: str) -> list[Post]:
        """The posts received on ``path``."""
        with self._lock:
            return [p for p in self.posts if p.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A threaded HTTP server on 127.0.0.1 that records posts."""
    server = Receiver()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The injected HTTP client, with a short timeout so 'hang' tests are quick."""
    with httpx.Client(timeout=0.5) as client:
        yield client


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 10, 16, 18, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 2025-10-16 18:00 UTC."""
    return FakeClock()
