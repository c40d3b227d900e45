"""Discord incoming webhooks: the seed's message as ``content``.

Discord answers 204 on success. On 429 the body carries ``retry_after`` in
seconds (a float; ``Retry-After`` is the rounded header), which we honour.
Mentions are disabled so an alert text can never ping @everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from phased.alerts.base import json_body, post_json, retry_after_header
from phased.alerts.format import render_markdown
from phased.alerts.model import Alert

DISCORD_CONTENT_LIMIT = 2000


def discord_retry_after(response: httpx.Response) -> float | None:
    """``retry_after`` from Discord's JSON body, else the ``Retry-After`` header."""
    body = json_body(response)
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(0.0, float(body["retry_after"]))
    return retry_after_header(response)


class DiscordNotifier:
    """Posts alerts to one Discord webhook URL."""

    kind: ClassVar[str] = "discord"

    def __init__(
        self, name: str, *, url: str, http: httpx.Client, timeout: float = 10.0, **_: Any
    ) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.timeout = timeout

    @staticmethod
    def payload(alert: Alert) -> Mapping[str, Any]:
        """The JSON body Discord receives."""
        return {
            "content": render_markdown(alert, limit=DISCORD_CONTENT_LIMIT),
            "allowed_mentions": {"parse": []},
        }

    def post(self, alert: Alert) -> None:
        """Deliver one alert or raise DeliveryError."""
        post_json(
            self.http,
            self.url,
            self.payload(alert),
            channel=self.name,
            timeout=self.timeout,
            retry_after=discord_retry_after,
        )
