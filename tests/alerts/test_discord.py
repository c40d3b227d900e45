"""The Discord channel: the seed's message as content, 429 retry_after from the body."""

from __future__ import annotations

import httpx
import pytest

from phased.alerts import Alert, DeliveryError, Severity
from phased.alerts.discord import DiscordNotifier

from .conftest import Receiver, Reply

SEED = Alert(
    severity=Severity.CRITICAL,
    message="GitHub Actions workflow dispatch failed",
    root_cause="Rate limit exceeded (403)",
    trace_id="abc123de-456f",
    links={"View Run": "https://github.com/org/repo/actions/runs/123"},
)


class TestDiscordFormat:
    """Discord receives seed 001's alert layout, with mentions disabled."""

    def test_seed_example(self, receiver: Receiver, http: httpx.Client) -> None:
        DiscordNotifier("ops", url=receiver.url("/discord"), http=http).post(SEED)
        (post,) = receiver.to("/discord")
        assert post.body["content"] == "\n".join(
            [
                "🔴 CRITICAL ALERT",
                "",
                "GitHub Actions workflow dispatch failed",
                "",
                "Root Cause: Rate limit exceeded (403)",
                "Trace ID: abc123de-456f",
                "",
                "[View Run](https://github.com/org/repo/actions/runs/123)",
            ]
        )
        assert post.body["allowed_mentions"] == {"parse": []}

    @pytest.mark.parametrize(
        ("severity", "title"),
        [(Severity.ERROR, "⚠️ ERROR ALERT"), (Severity.WARNING, "🟡 WARNING ALERT")],
    )
    def test_titles(self, severity: Severity, title: str) -> None:
        payload = DiscordNotifier.payload(SEED.model_copy(update={"severity": severity}))
        assert payload["content"].startswith(title + "\n")

    def test_summary_shows_repeat_count(self) -> None:
        summary = SEED.model_copy(update={"repeats": 7, "window_seconds": 300.0})
        content = DiscordNotifier.payload(summary)["content"]
        assert content.startswith("🔴 CRITICAL ALERT (repeated 7×)")
        assert "Repeated 7 more times within 300 s of the first alert." in content

    def test_flag_and_rollout_line(self) -> None:
        alert = SEED.model_copy(update={"flag": "checkout", "rollout": "r7", "rule": "error_rate"})
        content = DiscordNotifier.payload(alert)["content"]
        assert "Flag: checkout · Rollout: r7 · Rule: error_rate" in content

    def test_redacted_and_bounded(self) -> None:
        alert = SEED.model_copy(update={"message": "token ghp_" + "a" * 36 + " " + "x" * 5000})
        content = DiscordNotifier.payload(alert)["content"]
        assert "a" * 36 not in content
        assert len(content) < 2000


class TestDiscordRateLimit:
    """A 429 carries Discord's retry_after (seconds, in the JSON body)."""

    def test_body_retry_after(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script(
            "/d",
            Reply(
                429,
                {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
                headers={"Retry-After": "2"},
            ),
        )
        with pytest.raises(DeliveryError) as err:
            DiscordNotifier("ops", url=receiver.url("/d"), http=http).post(SEED)
        assert err.value.retry_after == 1.5

    def test_header_fallback(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script("/d", Reply(429, headers={"Retry-After": "3"}))
        with pytest.raises(DeliveryError) as err:
            DiscordNotifier("ops", url=receiver.url("/d"), http=http).post(SEED)
        assert err.value.retry_after == 3.0

    def test_deleted_webhook_is_permanent(self, receiver: Receiver, http: httpx.Client) -> None:
        receiver.script("/d", Reply(404, {"message": "Unknown Webhook", "code": 10015}))
        with pytest.raises(DeliveryError) as err:
            DiscordNotifier("ops", url=receiver.url("/d"), http=http).post(SEED)
        assert err.value.permanent
        assert "404" in str(err.value)
