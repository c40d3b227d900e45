"""Real HTTP servers on 127.0.0.1 for the SDK's sync and outcome tests.

``phased_server``: the real phased app (uvicorn in a thread, SQLite in a temp
dir) with an admin token and an sdk token for ``prod``. ``fake_server``: a
small ``http.server`` speaking the same three SDK endpoints, for what the real
one should not be made to do on purpose — go down and come back on the same
port, fail a number of posts, or commit a batch and lose the answer.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from phased.core.outcomes import Aggregate, OutcomeKey

SDK_TOKEN = "phs_test_sdk_token"
ENV = "prod"


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Poll ``predicate`` until it is truthy (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- the fake ------------------------------------------------------------------


@dataclass
class FakeState:
    """What the fake server serves and what it saw."""

    body: bytes = b""
    etag: str = ""
    flag_statuses: list[int] = field(default_factory=list)
    stream_peers: list[tuple[str, int]] = field(default_factory=list)
    open_streams: int = 0
    batch_ids: list[str] = field(default_factory=list)
    windows: dict[OutcomeKey, Aggregate] = field(default_factory=dict)
    fail_posts: int = 0
    """Answer this many posts with 503 before accepting."""
    lose_answers: int = 0
    """Commit this many posts, then close the connection without answering."""
    stream_enabled: bool = True
    reported_drops: int = 0
    """Sum of the X-Phased-Dropped-Windows headers received."""


class FakeSdkServer:
    """The SDK endpoints on a real socket; ``stop()``/``start()`` keep the port."""

    def __init__(self, heartbeat: float = 0.5) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.heartbeat = heartbeat
        self.state = FakeState()
        self.cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    def set_flags(self, flags_yaml: str, stages: dict[str, str] | None = None) -> None:
        """Serve this flags document from now on and tell every stream."""
        document = {
            "version": 1,
            "environment": ENV,
            "stages": stages or {},
            "flagset": yaml.safe_load(flags_yaml),
        }
        body = json.dumps(document).encode()
        with self.cond:
            self.state.body = body
            self.state.etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            self.cond.notify_all()

    def total_requests(self, flag: str) -> int:
        """Requests counted for ``flag`` over every window received."""
        with self.cond:
            return sum(a.requests for k, a in self.state.windows.items() if k.flag == flag)

    def start(self) -> None:
        self._closing = False
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and every open stream (the server is "down")."""
        self._closing = True
        with self.cond:
            self.cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        wait_for(lambda: self.state.open_streams == 0, timeout=3)


def _handler(fake: FakeSdkServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {SDK_TOKEN}":
                return True
            self._reply(401, b'{"error":{"code":"unauthorized","message":"bad token"}}')
            return False

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def do_GET(self) -> None:
            if not self._authorized():
                return
            path = self.path.split("?")[0]
            if path == "/api/v1/sdk/flags":
                with fake.cond:
                    body, etag = fake.state.body, fake.state.etag
                status = 304 if self.headers.get("If-None-Match") == etag else 200
                fake.state.flag_statuses.append(status)
                self._reply(status, body, {"ETag": etag})
            elif path == "/api/v1/sdk/stream" and fake.state.stream_enabled:
                self._stream()
            else:
                self._reply(404, b'{"error":{"code":"not_found","message":"no such path"}}')

        def _stream(self) -> None:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            fake.state.stream_peers.append(self.client_address)
            fake.state.open_streams += 1
            sent = None
            try:
                while not fake._closing:
                    with fake.cond:
                        if fake.state.etag == sent:
                            fake.cond.wait(fake.heartbeat)
                        etag = fake.state.etag
                    if fake._closing:
                        break
                    if etag != sent:
                        data = json.dumps({"etag": etag})
                        self.wfile.write(f"event: flags\ndata: {data}\n\n".encode())
                        sent = etag
                    else:
                        self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
            except OSError:
                pass
            finally:
                fake.state.open_streams -= 1

        def do_POST(self) -> None:
            if not self._authorized():
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with fake.cond:
                if fake.state.fail_posts:
                    fake.state.fail_posts -= 1
                    self._reply(503, b'{"error":{"code":"unavailable","message":"try later"}}')
                    return
                fake.state.reported_drops += int(self.headers.get("X-Phased-Dropped-Windows", 0))
                duplicate = body["batch_id"] in fake.state.batch_ids
                if not duplicate:
                    fake.state.batch_ids.append(body["batch_id"])
                    for w in body["windows"]:
                        key = OutcomeKey.from_dict(w["key"])
                        agg = Aggregate.from_dict(w["aggregate"])
                        if key in fake.state.windows:
                            fake.state.windows[key].merge(agg)
                        else:
                            fake.state.windows[key] = agg
                if fake.state.lose_answers:
                    fake.state.lose_answers -= 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
            accepted = 0 if duplicate else len(body["windows"])
            answer = json.dumps({"accepted": accepted, "duplicate": duplicate}).encode()
            self._reply(200, answer)

    return Handler


@pytest.fixture
def fake_server() -> Iterator[FakeSdkServer]:
    """A started fake SDK server on a free port."""
    server = FakeSdkServer()
    server.start()
    yield server
    server.stop()


# -- the real one --------------------------------------------------------------


@dataclass
class PhasedServer:
    """The real app on a socket, with an admin client for making changes through the API."""

    url: str
    sdk_token: str
    admin: httpx.Client
    store: Any

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """A mutation through the API, as a person would make it."""
        response = self.admin.put(self.url + "/api/v1" + path, json=body)
        response.raise_for_status()
        return response


@pytest.fixture
def phased_server(tmp_path: Path) -> Iterator[PhasedServer]:
    """The real phased server (SQLite, revision polled every 50 ms) with flag ``checkout``."""
    import uvicorn

    from phased.server.app import create_app
    from phased.server.config import ServerSettings
    from phased.service import flags as flag_service
    from phased.service.tokens import create_token
    from phased.store.engine import open_store

    store = open_store(f"sqlite:///{tmp_path / 'server.db'}", environments=("dev", "staging", ENV))
    admin = create_token(store, actor="test", name="admin", role="admin")
    sdk = create_token(store, actor="test", name="sdk", role="sdk", environment=ENV)
    flag_service.create_flag(store, actor="test", key="checkout")
    settings = ServerSettings(
        database_url="sqlite://",
        revision_poll_seconds=0.05,
        sse_heartbeat_seconds=1.0,
        engine=False,
        bootstrap=False,
        json_logging=False,
    )
    app = create_app(settings, store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, timeout=10), "the phased server did not start"
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(headers={"Authorization": f"Bearer {admin.secret}"}, timeout=10)
    try:
        yield PhasedServer(url, sdk.secret, client, store)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()
