"""A real server: uvicorn on 127.0.0.1 (a free port, a thread), a fresh SQLite store.

Tests talk to it with httpx over TCP, exactly as an SDK or the CLI would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from phased.server import ServerSettings, create_app
from phased.service import tokens
from phased.store.engine import Store, open_store

ENVIRONMENTS = ("dev", "staging", "prod")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A server under test and the means to call it."""

    url: str
    store: Store
    admin_secret: str
    server: uvicorn.Server
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, secret: str | None = None, *, anonymous: bool = False) -> httpx.Client:
        """An httpx client with ``secret`` (the admin's by default, none if anonymous)."""
        headers = {} if anonymous else {"Authorization": f"Bearer {secret or self.admin_secret}"}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=10)
        self.clients.append(c)
        return c

    def token(self, role: str, name: str | None = None, environment: str | None = None) -> str:
        """The secret of a new token with ``role``."""
        new = tokens.create_token(
            self.store,
            actor="test-setup",
            name=name or f"{role}-user",
            role=role,
            environment=environment,
        )
        self.wait_for_revision()
        return new.secret

    def wait_for_revision(self, timeout: float = 5.0) -> None:
        """Wait until the server has loaded the store's current revision."""
        target = self.store.revision()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client().get("/healthz").json()["revision"] >= target:
                return
            time.sleep(0.02)
        raise AssertionError(f"server did not reach revision {target}")


ServerFactory = Callable[..., RunningServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers with chosen settings; all are stopped at the end of the test."""
    started: list[tuple[RunningServer, threading.Thread]] = []

    def start(
        background: Callable[[Store], object] | None = None, **overrides: object
    ) -> RunningServer:
        """``background(store)`` builds work started with the app (create_app's ``background``)."""
        url = f"sqlite:///{tmp_path / f'phased-{len(started)}.db'}"
        store = open_store(url, environments=ENVIRONMENTS)
        admin = tokens.create_token(store, actor="test-setup", name="root", role="admin")
        settings = ServerSettings(
            database_url=url,
            environments=ENVIRONMENTS,
            revision_poll_seconds=0.05,
            engine=False,
            bootstrap=False,
            **overrides,
        )
        port = free_port()
        config = uvicorn.Config(
            create_app(settings, store, background=background(store) if background else None),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        running = RunningServer(f"http://127.0.0.1:{port}", store, admin.secret, server)
        started.append((running, thread))
        return running

    yield start
    for running, thread in started:
        for c in running.clients:
            c.close()
        running.server.should_exit = True
        thread.join(timeout=10)
        running.store.close()


@pytest.fixture
def server(start_server: ServerFactory) -> RunningServer:
    """One running server with default settings."""
    return start_server()
