"""A generic JSON webhook: every alert field, plus the rendered text.

The body is stable (documented in docs/alerts.md) so receivers can parse it.
``Idempotency-Key`` is a SHA-256 of the alert's full content (including its
``created_at``, set when it was queued), so a receiver can drop the rare
duplicate that a crash between "posted" and "marked delivered" can cause.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from phased.alerts.base import post_json, retry_after_header
from phased.alerts.format import render_markdown, safe_links
from phased.alerts.model import Alert
from phased.obs.redact import redact_text


def idempotency_key(alert: Alert) -> str:
    """Stable for one queued alert, different for two occurrences."""
    return hashlib.sha256(alert.model_dump_json().encode("utf-8")).hexdigest()


class WebhookNotifier:
    """POSTs alerts as JSON to one URL, with optional extra headers."""

    kind: ClassVar[str] = "webhook"

    def __init__(
        self,
        name: str,
        *,
        url: str,
        http: httpx.Client,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.timeout = timeout
        self.headers = dict(headers or {})

    @staticmethod
    def payload(alert: Alert) -> Mapping[str, Any]:
        """The JSON body the receiver gets."""
        return {
            "severity": alert.severity.value,
            "emoji": alert.severity.emoji,
            "message": redact_text(alert.message),
            "root_cause": redact_text(alert.root_cause) if alert.root_cause else None,
            "trace_id": alert.trace_id,
            "links": safe_links(alert),
            "flag": alert.flag,
            "rollout": alert.rollout,
            "rule": alert.rule,
            "environment": alert.environment,
            "created_at": alert.created_at.isoformat() if alert.created_at else None,
            "repeats": alert.repeats,
            "window_seconds": alert.window_seconds,
            "dedup_key": alert.dedup_key,
            "group_key": alert.group_key,
            "text": render_markdown(alert, limit=10_000),
        }

    def post(self, alert: Alert) -> None:
        """Deliver one alert or raise DeliveryError."""
        headers = dict(self.headers)
        headers["Idempotency-Key"] = idempotency_key(alert)
        post_json(
            self.http,
            self.url,
            self.payload(alert),
            channel=self.name,
            headers=headers,
            timeout=self.timeout,
            retry_after=retry_after_header,
        )
