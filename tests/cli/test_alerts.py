"""`phased alerts list/test/deliver` against a real store and a real receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from phased.alerts import Alert, Severity
from phased.alerts.queue import DeliveryStatus
from phased.cli.main import app as main_app
from phased.store import open_store
from phased.store.outbox import Outbox, enqueue


@pytest.fixture
def app() -> typer.Typer:
    """The real root command, with its error handling."""
    return main_app


@pytest.fixture
def hook() -> Iterator[tuple[str, list[Any]]]:
    """A local receiver answering 204 on /ok and 500 elsewhere."""
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204 if self.path == "/ok" else 500)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/phased.db"
    with open_store(url) as store, store.write() as conn:
        enqueue(conn, Alert(severity=Severity.CRITICAL, message="rollback of checkout"))
        enqueue(conn, Alert(severity=Severity.WARNING, message="p95 creeping up"))
    return url


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "retry: {max_attempts: 1}\n"
        f"channels:\n  ops: {{kind: webhook, url: '{url}', timeout_seconds: 2}}\n"
    )
    return path


class TestList:
    """`alerts list` shows the outbox; --failed only the failed ones; --json for machines."""

    def test_list_and_json(self, app: typer.Typer, db: str) -> None:
        result = CliRunner().invoke(app, ["alerts", "list", "--db", db])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("#2     pending    🟡 warning")
        assert "rollback of checkout" in lines[1]
        data = json.loads(CliRunner().invoke(app, ["alerts", "list", "--db", db, "--json"]).stdout)
        assert [d["alert"]["severity"] for d in data] == ["warning", "critical"]

    def test_failed(self, app: typer.Typer, db: str, tmp_path: Path, hook: Any) -> None:
        base, _ = hook
        config = write_config(tmp_path, base + "/broken")
        env = {"ENABLE_ALERTS": "true"}
        result = CliRunner().invoke(
            app, ["alerts", "deliver", "--once", "--db", db, "--config", str(config)], env=env
        )
        assert result.exit_code == 0, result.output
        assert "failed 2" in result.stdout
        failed = CliRunner().invoke(app, ["alerts", "list", "--failed", "--db", db])
        assert len(failed.stdout.splitlines()) == 2
        assert "answered 500" in failed.stdout

    def test_bad_status(self, app: typer.Typer, db: str) -> None:
        result = CliRunner().invoke(app, ["alerts", "list", "--db", db, "--status", "lost"])
        assert result.exit_code == 1
        assert result.stderr.startswith("error: --status: unknown status 'lost'; valid: pending")


class TestDeliver:
    """`alerts deliver --once` sends what is due when ENABLE_ALERTS is on, skips it when off."""

    def test_on(self, app: typer.Typer, db: str, tmp_path: Path, hook: Any) -> None:
        base, received = hook
        config = write_config(tmp_path, base + "/ok")
        result = CliRunner().invoke(
            app,
            ["alerts", "deliver", "--once", "--db", db, "--config", str(config)],
            env={"ENABLE_ALERTS": "true"},
        )
        assert "delivered 2" in result.stdout
        assert sorted(r["message"] for r in received) == ["p95 creeping up", "rollback of checkout"]

    def test_off(self, app: typer.Typer, db: str, tmp_path: Path, hook: Any) -> None:
        _, received = hook
        result = CliRunner().invoke(
            app,
            ["alerts", "deliver", "--once", "--db", db, "--env", "prod"],
            env={"ENABLE_ALERTS": None},
        )
        assert "skipped 2" in result.stdout
        assert received == []
        with open_store(db) as store:
            assert Outbox(store.engine).counts()[DeliveryStatus.SKIPPED] == 2

    def test_on_without_channel(self, app: typer.Typer, db: str, tmp_path: Path) -> None:
        empty = tmp_path / "empty.yaml"
        empty.write_text("channels: {}\n")
        result = CliRunner().invoke(
            app,
            ["alerts", "deliver", "--once", "--db", db, "--config", str(empty)],
            env={"ENABLE_ALERTS": "true"},
        )
        assert result.exit_code == 1
        assert result.stderr.startswith("error: channels: ENABLE_ALERTS is on but no alert channel")


class TestSendTest:
    """`alerts test --channel` posts one alert or fails in one line."""

    def test_ok(self, app: typer.Typer, tmp_path: Path, hook: Any) -> None:
        base, received = hook
        config = write_config(tmp_path, base + "/ok")
        result = CliRunner().invoke(
            app, ["alerts", "test", "--channel", "ops", "--config", str(config)]
        )
        assert result.exit_code == 0, result.output
        assert received[0]["message"] == "Test alert from phased to channel ops"

    def test_unknown_channel(self, app: typer.Typer, tmp_path: Path, hook: Any) -> None:
        config = write_config(tmp_path, hook[0] + "/ok")
        result = CliRunner().invoke(
            app, ["alerts", "test", "--channel", "nope", "--config", str(config)]
        )
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "error: channel: no alert channel named 'nope'; configured channels: ops"
        )

    def test_delivery_failure(self, app: typer.Typer, tmp_path: Path, hook: Any) -> None:
        config = write_config(tmp_path, hook[0] + "/broken")
        result = CliRunner().invoke(
            app, ["alerts", "test", "--channel", "ops", "--config", str(config)]
        )
        assert result.exit_code == 1
        # The channel's URL is a credential: masked to its last 4 characters.
        assert result.stderr.startswith("error: channels.ops: ***oken answered 500")
        assert "127.0.0.1" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
