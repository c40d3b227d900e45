"""The Slack channel: text fallback plus blocks, 429 Retry-After from the header."""

from __future__ import annotations

import httpx
import pytest

from phased.alerts import Alert, DeliveryError, Severity
from phased.alerts.slack import SlackNotifier

from .conftest import Receiver, Reply

ALERT = Alert(
    severity=Severity.ERROR,
    message="Rollout <checkout> paused",
    root_cause="error_rate 0.031 > 0.01",
    trace_id="abc123de",
    links={"Dashboard": "https://phased.example/rollouts/7"},
)


class TestSlackFormat:
    """Slack gets a readable fallback text and Block Kit sections with escaped mrkdwn."""

    def test_payload(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.default = Reply(200, "ok")
        SlackNotifier("team", url=receiver.url("/slack"), http=http).post(ALERT)
        (post,) = receiver.to("/slack")
        body = post.body
        assert body["text"] == "⚠️ ERROR ALERT: Rollout <checkout> paused"
        header, message, details, links = body["blocks"]
        assert header["text"]["text"] == "⚠️ ERROR ALERT"
        assert message["text"]["text"] == "*Rollout &lt;checkout&gt; paused*"
        assert details["text"]["text"] == (
            "Root Cause: error_rate 0.031 &gt; 0.01\nTrace ID: abc123de"
        )
        assert links["elements"][0]["text"] == "<https://phased.example/rollouts/7|Dashboard>"


class TestSlackRateLimit:
    """Slack's 429 carries Retry-After in a header."""

    def test_retry_after_header(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script(
            "/s", Reply(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"})
        )
        with pytest.raises(DeliveryError) as err:
            SlackNotifier("team", url=receiver.url("/s"), http=http).post(ALERT)
        assert err.value.retry_after == 30.0
        assert not err.value.permanent
