"""No secret reaches the audit log, the API's answers or its errors (issue 9, repro 9).

A real server on 127.0.0.1, a real webhook receiver; the secrets are pasted
where people paste them: a flag's description, an override's note, a test
alert's message, a malformed request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from alerts.conftest import Receiver
from phased.service import audit

if TYPE_CHECKING:
    from server.conftest import RunningServer

BEARER = "eyJhbGciOiJIUzI1NiJ9abc123"
URL_PASSWORD = "pw-9s3cr3t"
TOKEN = "hunter2hunter2"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1."""
    server = Receiver()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


def _no_secret(text: str) -> None:
    for secret in (BEARER, URL_PASSWORD, TOKEN):
        assert secret not in text


class TestAudit:
    """A secret pasted into a description or a note is masked before the chain records it."""

    def test_audit_query_and_export(self, server: RunningServer) -> None:
        client = server.client()
        created = client.post(
            "/api/v1/flags",
            json={"key": "awf", "description": f"call it with Bearer {BEARER}"},
        )
        assert created.status_code in (200, 201), created.text
        pinned = client.post(
            "/api/v1/flags/awf/overrides",
            json={
                "environment": "dev",
                "serve": True,
                "user": "u1",
                "note": f"see https://admin:{URL_PASSWORD}@ops.example.com and token={TOKEN}",
            },
        )
        assert pinned.status_code == 200, pinned.text
        # The answer's audit entries are the chain's; `changes` is the flag's own data.
        _no_secret(json.dumps(pinned.json()["audit"]))
        recent = client.get("/api/v1/audit")
        assert recent.status_code == 200
        _no_secret(recent.text)
        assert "Bearer ***c123" in recent.text
        assert "https://admin:***cr3t@ops.example.com" in recent.text
        exported = client.get("/api/v1/audit/export")
        assert exported.status_code == 200
        _no_secret(exported.text)
        assert "Bearer ***c123" in exported.text
        # The chain is computed over what was stored: it verifies.
        assert client.get("/api/v1/audit/verify").json()["ok"] is True
        assert audit.verify(server.store).ok

    def test_ordinary_prose_is_kept(self, server: RunningServer) -> None:
        client = server.client()
        text = "Use basic authentication; smoke tests passed with basic commands"
        client.post("/api/v1/flags", json={"key": "awf", "description": text})
        entry = client.get("/api/v1/audit").json()[0]
        assert entry["details"]["after"]["description"] == text


class TestAnswers:
    """The API never echoes a secret: test alerts, error messages."""

    def test_alert_test_does_not_echo_the_secret(
        self, server: RunningServer, receiver: Receiver
    ) -> None:
        document = {
            "channels": {"hook": {"kind": "webhook", "url": receiver.url("/hook")}},
            "retry": {"max_attempts": 1},
        }
        put = server.client().put("/api/v1/alerts/config", json={"version": 0, "config": document})
        assert put.status_code == 200, put.text
        response = server.client().post(
            "/api/v1/alerts/test",
            json={"channel": "hook", "message": f"deploy with password={TOKEN} now"},
        )
        assert response.status_code == 200, response.text
        _no_secret(response.text)
        assert response.json()["alert"]["message"] == "deploy with password=***ter2 now"
        sent = json.dumps(receiver.accepted("/hook")[0].body)
        _no_secret(sent)

    def test_error_messages_are_redacted(self, server: RunningServer) -> None:
        response = server.client().put(
            "/api/v1/flags/nope/environments/dev/enabled", json={"enabled": True}
        )
        assert response.status_code == 404
        bad_env = server.client().put(
            f"/api/v1/flags/x/environments/token={TOKEN}/enabled", json={"enabled": True}
        )
        assert bad_env.status_code in (404, 422)
        _no_secret(bad_env.text)


class TestInvalidJson:
    """A body that is not JSON names the body, not a character offset, as the field."""

    def test_field_is_body(self, server: RunningServer) -> None:
        response = server.client().post(
            "/api/v1/flags",
            content=b'{"key": "awf", oops}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["field"] == "body"
        assert error["message"].startswith("body: is not valid JSON (at character 15)")
