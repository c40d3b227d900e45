"""Slack incoming webhooks: a ``text`` fallback plus Block Kit sections.

Slack answers 200 ``ok`` on success and 429 with a ``Retry-After`` header
(seconds) when rate limited, which we honour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from phased.alerts.base import post_json, retry_after_header
from phased.alerts.format import detail_lines, safe_links, title
from phased.alerts.model import Alert
from phased.obs.redact import redact_text

SLACK_SECTION_LIMIT = 3000


def _escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier:
    """Posts alerts to one Slack incoming-webhook URL."""

    kind: ClassVar[str] = "slack"

    def __init__(
        self, name: str, *, url: str, http: httpx.Client, timeout: float = 10.0, **_: Any
    ) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.timeout = timeout

    @staticmethod
    def payload(alert: Alert) -> Mapping[str, Any]:
        """The JSON body Slack receives."""
        head = title(alert)
        message = _escape(redact_text(alert.message))
        details = "\n".join(_escape(line) for line in detail_lines(alert))
        links = " · ".join(f"<{url}|{_escape(label)}>" for label, url in safe_links(alert).items())
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150], "emoji": True}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{message}*"[:SLACK_SECTION_LIMIT]},
            },
        ]
        if details:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": details[:3000]}})
        if links:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
        return {"text": f"{head}: {redact_text(alert.message)}"[:3000], "blocks": blocks}

    def post(self, alert: Alert) -> None:
        """Deliver one alert or raise DeliveryError."""
        post_json(
            self.http,
            self.url,
            self.payload(alert),
            channel=self.name,
            timeout=self.timeout,
            retry_after=retry_after_header,
        )
