"""The generic JSON webhook: every field, custom headers, an idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from phased.alerts import Alert, DeliveryError, Severity
from phased.alerts.webhook import WebhookNotifier

from .conftest import Receiver, Reply

ALERT = Alert(
    severity=Severity.WARNING,
    message="p95 latency 9100ms > 8000ms",
    trace_id="t1",
    flag="awf",
    rollout="r1",
    rule="latency_p95",
    created_at=datetime(2025, 10, 16, 18, tzinfo=UTC),
    links={"hook": "https://user:hunter22secret@example.com/x"},
)


class TestWebhookFormat:
    """The receiver gets a stable JSON document, redacted, with the configured headers."""

    def test_body_and_headers(self, receiver: Receiver, http: httpx.Client) -> None:
        hook = WebhookNotifier(
            "hook", url=receiver.url("/hook"), http=http, headers={"Authorization": "Bearer s3cret"}
        )
        hook.post(ALERT)
        hook.post(ALERT)
        first, second = receiver.to("/hook")
        body = first.body
        assert body["severity"] == "warning"
        assert body["emoji"] == "🟡"
        assert body["message"] == ALERT.message
        assert body["flag"] == "awf"
        assert body["rollout"] == "r1"
        assert body["rule"] == "latency_p95"
        assert body["group_key"] == "awf|r1|latency_p95"
        assert body["dedup_key"] == ALERT.dedup_key
        assert body["created_at"] == "2025-10-16T18:00:00+00:00"
        assert body["links"] == {"hook": "https://user:***cret@example.com/x"}
        assert body["text"].startswith("🟡 WARNING ALERT")
        assert first.headers["Authorization"] == "Bearer s3cret"
        assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]

    def test_server_error_is_retryable(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script("/h", Reply(503, {"error": "down"}))
        with pytest.raises(DeliveryError) as err:
            WebhookNotifier("hook", url=receiver.url("/h"), http=http).post(ALERT)
        assert not err.value.permanent
        assert str(err.value).startswith("channels.hook: ")

    def test_hang_times_out(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script("/h", Reply(hang=True))
        with pytest.raises(DeliveryError, match=r"no answer from .* within 0\.2 s"):
            WebhookNotifier("hook", url=receiver.url("/h"), http=http, timeout=0.2).post(ALERT)

    def test_unreachable(self, http: httpx.Client) -> None:
        with pytest.raises(DeliveryError, match="could not reach"):
            WebhookNotifier("hook", url="http://127.0.0.1:9/x", http=http).post(ALERT)
