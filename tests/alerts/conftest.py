"""A real HTTP receiver on 127.0.0.1 and a fake clock for the alert tests."""

from __future__ import annotations

import json
import os
import threading
import uuid
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
    status: int | None = None  # what the receiver answered; None while hanging


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
            queue = self._script.get(path)
            reply = queue.pop(0) if queue else self.default
            status = None if reply.hang else reply.status
            self.posts.append(Post(path=path, headers=headers, body=body, status=status))
            return reply

    def accepted(self, path: str) -> list[Post]:
        """The posts to ``path`` that were answered with a 2xx."""
        return [p for p in self.to(path) if p.status is not None and 200 <= p.status < 300]

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


def _postgres_admin() -> Any:
    import psycopg

    return psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True, connect_timeout=3
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh database per test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/phased.db"
        return
    try:
        admin = _postgres_admin()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = f"phased_alerts_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
