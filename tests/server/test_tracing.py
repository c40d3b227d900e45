"""Request tracing over real HTTP: traceparent in and out, log context, mutation traces."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import structlog

from phased.obs import configure_logging, get_trace_store, parse_traceparent
from phased.settings import Settings

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
INCOMING_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """phased's JSON logs (server thread included) into a buffer, at debug level.

    The test's own HTTP client logs are left out: only the server's lines are judged.
    """
    buffer = io.StringIO()
    configure_logging(Settings(), stream=buffer, level="debug", json=True)
    quiet = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    for client_logger in quiet:
        client_logger.setLevel(logging.WARNING)
    yield buffer
    for client_logger in quiet:
        client_logger.setLevel(logging.NOTSET)
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def _access(buffer: io.StringIO, trace_id: str) -> dict[str, Any]:
    found = [x for x in _lines(buffer) if x["msg"] == "request" and x["trace_id"] == trace_id]
    assert len(found) == 1, _lines(buffer)
    return found[0]


class TestTraceparent:
    """An application's trace id joins phased's: it comes back in headers and log lines."""

    def test_incoming_trace_id_is_kept(
        self, server: RunningServer, log_buffer: io.StringIO
    ) -> None:
        response = server.client().get("/api/v1/flags", headers={"traceparent": INCOMING})
        assert response.status_code == 200
        out = parse_traceparent(response.headers["traceparent"])
        assert out is not None
        assert out.trace_id == INCOMING_ID
        assert out.parent_id != "00f067aa0ba902b7"  # phased's own span, not the caller's
        assert response.headers["x-trace-id"] == INCOMING_ID
        line = _access(log_buffer, INCOMING_ID)
        assert line["user_id"] == "root"
        assert line["cmd"] == "GET /api/v1/flags"
        assert line["status"] == 200
        assert line["level"] == "info"

    def test_without_traceparent_each_request_gets_its_own(self, server: RunningServer) -> None:
        ids = {server.client().get("/api/v1/flags").headers["x-trace-id"] for _ in range(3)}
        assert len(ids) == 3
        assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)

    def test_malformed_traceparent_starts_a_new_trace(self, server: RunningServer) -> None:
        response = server.client().get("/api/v1/flags", headers={"traceparent": "00-zz-01"})
        assert response.status_code == 200
        assert parse_traceparent(response.headers["traceparent"]) is not None

    def test_errors_and_anonymous_routes_carry_it_too(self, server: RunningServer) -> None:
        for response in (
            server.client(anonymous=True).get("/api/v1/flags", headers={"traceparent": INCOMING}),
            server.client().get("/no/such/page", headers={"traceparent": INCOMING}),
            server.client().get("/healthz", headers={"traceparent": INCOMING}),
        ):
            assert response.headers["x-trace-id"] == INCOMING_ID, response.status_code

    def test_context_does_not_leak_between_requests(
        self, server: RunningServer, log_buffer: io.StringIO
    ) -> None:
        server.client().get("/api/v1/flags", headers={"traceparent": INCOMING})
        anonymous = server.client(anonymous=True).get("/healthz")
        line = _access(log_buffer, anonymous.headers["x-trace-id"])
        assert line["user_id"] is None
        assert line["cmd"] == "GET /healthz"


class TestMutationTraces:
    """Every API mutation leaves an execution trace that debug-last shows."""

    def test_mutation_shows_in_debug_last(self, server: RunningServer) -> None:
        trace_id = "0af7651916cd43dd8448eb211c80319c"
        created = server.client().post(
            "/api/v1/flags",
            json={"key": "traced-flag"},
            headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"},
        )
        assert created.status_code == 201
        recorded = get_trace_store().get(trace_id)
        assert recorded is not None
        assert recorded.user == "root"
        assert recorded.command == "POST /api/v1/flags"
        assert [s.name for s in recorded.steps] == [
            "authenticate",
            "validate",
            "service call",
            "commit",
        ]
        assert recorded.ok
        assert recorded.steps[0].details["role"] == "admin"
        assert "flag.create" in recorded.steps[2].details["audit"]
        shown = server.client().get("/api/v1/debug/last", params={"user": "root"})
        assert shown.status_code == 200
        assert "POST /api/v1/flags" in shown.text
        assert trace_id[:8] in shown.text
        assert shown.text.count("✅") == 4

    def test_refused_mutation_records_the_failed_step(self, server: RunningServer) -> None:
        response = server.client().put(
            "/api/v1/flags/nope/environments/dev/enabled", json={"enabled": True}
        )
        assert response.status_code == 404
        recorded = get_trace_store().get(response.headers["x-trace-id"])
        assert recorded is not None
        assert [(s.name, s.status.value) for s in recorded.steps][-1] == ("service call", "failed")
        assert recorded.error is not None
        assert "nope" in recorded.error

    def test_invalid_body_fails_validate(self, server: RunningServer) -> None:
        response = server.client().post("/api/v1/flags", json={"key": 5, "extra": 1})
        assert response.status_code == 422
        recorded = get_trace_store().get(response.headers["x-trace-id"])
        assert recorded is not None
        assert [(s.name, s.status.value) for s in recorded.steps] == [
            ("authenticate", "ok"),
            ("validate", "failed"),
        ]

    def test_refused_role_fails_authenticate(self, server: RunningServer) -> None:
        viewer = server.token("viewer", name="vera")
        response = server.client(viewer).post("/api/v1/flags", json={"key": "not-allowed"})
        assert response.status_code == 403
        recorded = get_trace_store().get(response.headers["x-trace-id"])
        assert recorded is not None
        assert recorded.user == "vera"
        assert [(s.name, s.status.value) for s in recorded.steps] == [("authenticate", "failed")]
        assert recorded.error is not None
        assert "forbidden" in recorded.error

    def test_reads_leave_no_trace(self, server: RunningServer) -> None:
        response = server.client().get("/api/v1/flags")
        assert get_trace_store().get(response.headers["x-trace-id"]) is None

    def test_debug_last_is_off_in_prod(self, start_server: ServerFactory) -> None:
        prod = start_server(env="prod")
        response = prod.client().get("/api/v1/debug/last")
        assert response.status_code == 403
        assert "ENABLE_DEBUG_CMD" in response.json()["error"]["message"]


class TestNoSecretsInLogs:
    """Tokens and cookies never reach the log, not even in access lines."""

    def test_token_and_cookie_are_not_logged(
        self, server: RunningServer, log_buffer: io.StringIO
    ) -> None:
        cookie = "phased_session=s3cr3t-cookie-value-123456"
        server.client().get("/api/v1/flags", headers={"cookie": cookie})
        server.client().post("/api/v1/flags", json={"key": "logged"}, headers={"cookie": cookie})
        server.client("phd_wrong-token-abcdef").get("/api/v1/flags")
        server.client().get("/api/v1/flags?token=phd_in-the-query-string-xyz")
        text = log_buffer.getvalue()
        assert len(_lines(log_buffer)) >= 4
        for secret in (
            server.admin_secret,
            "s3cr3t-cookie-value",
            "phd_wrong-token",
            "phd_in-the-query",
        ):
            assert secret not in text
