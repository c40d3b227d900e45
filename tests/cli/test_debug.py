"""`phased debug-last`: gated by enable_debug_cmd, reads the trace file, bounded output."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from phased.cli.main import app as main_app
from phased.obs import TraceStore, trace
from phased.obs.tracefile import append_trace


@pytest.fixture
def app() -> typer.Typer:
    """The real root command, with its error handling."""
    return main_app


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    store = TraceStore(sink=lambda tr: append_trace(path, tr))
    with trace("flags apply", user="alice", store=store) as tr:
        tr.step("Validate input", token="secret12345678")
        tr.link("Audit", "https://phased.example/audit/7")
    with trace("rollout advance", user="bob", store=store) as tr:
        tr.step("Check gates")
    return path


class TestDebugLast:
    """The command shows the most recent trace when the flag allows it."""

    def test_dev_shows_last(self, app: typer.Typer, trace_file: Path) -> None:
        result = CliRunner().invoke(
            app, ["debug-last", "--env", "dev", "--traces", str(trace_file)]
        )
        assert result.exit_code == 0, result.output
        assert "Command: rollout advance" in result.stdout
        assert "  ✅ Check gates" in result.stdout

    def test_per_user_and_redacted(self, app: typer.Typer, trace_file: Path) -> None:
        result = CliRunner().invoke(
            app, ["debug-last", "--env", "dev", "--user", "alice", "--traces", str(trace_file)]
        )
        assert "Command: flags apply" in result.stdout
        assert "token=***5678" in result.stdout
        assert "secret1234" not in trace_file.read_text()
        assert "[Audit](https://phased.example/audit/7)" in result.stdout

    def test_off_in_prod(
        self, app: typer.Typer, trace_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("ENABLE_DEBUG_CMD", raising=False)
        result = CliRunner().invoke(
            app, ["debug-last", "--env", "prod", "--traces", str(trace_file)]
        )
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.strip() == (
            "error: enable_debug_cmd: debug-last is off in environment 'prod'; "
            "set ENABLE_DEBUG_CMD=true to allow it here"
        )

    def test_env_var_turns_it_on(
        self, app: typer.Typer, trace_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ENABLE_DEBUG_CMD", "true")
        result = CliRunner().invoke(
            app, ["debug-last", "--env", "prod", "--traces", str(trace_file)]
        )
        assert result.exit_code == 0

    def test_nothing_recorded(self, app: typer.Typer, tmp_path: Path) -> None:
        result = CliRunner().invoke(
            app, ["debug-last", "--env", "dev", "--traces", str(tmp_path / "none.jsonl")]
        )
        assert result.stdout.strip() == "🔍 No execution recorded yet."


class TestFromServer:
    """With PHASED_SERVER set the command shows the server's last trace."""

    def test_server(self, app: typer.Typer) -> None:
        seen: list[tuple[str, str | None]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append((self.path, self.headers.get("Authorization")))
                body = "🔍 Last Execution Debug Info\n\nCommand: rollout advance".encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
        thread.start()
        try:
            env = {
                "PHASED_SERVER": f"http://127.0.0.1:{server.server_address[1]}",
                "PHASED_TOKEN": "tok",
            }
            result = CliRunner().invoke(
                app, ["debug-last", "--env", "dev", "--user", "bob"], env=env
            )
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
        assert result.exit_code == 0, result.output
        assert "Command: rollout advance" in result.stdout
        assert seen == [("/api/v1/debug/last?user=bob", "Bearer tok")]


class TestDefaults:
    """The command reads the file the CLI writes traces to."""

    def test_default_trace_file_matches_obs(self) -> None:
        from phased.obs import tracefile
        from phased.settings import Settings

        # The field's default: the CLI tests point PHASED_TRACE_FILE at a temporary file.
        assert Settings.model_fields["trace_file"].default == tracefile.DEFAULT_TRACE_FILE
