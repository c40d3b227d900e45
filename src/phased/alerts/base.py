"""The one protocol every alert channel implements, and the HTTP plumbing they share."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from phased.alerts.model import Alert
from phased.errors import DeliveryError
from phased.obs.redact import redact_text


@runtime_checkable
class Notifier(Protocol):
    """An alert channel: Discord, Slack, a generic webhook, the log."""

    kind: ClassVar[str]
    name: str

    def post(self, alert: Alert) -> None:
        """Deliver one alert or raise :class:`DeliveryError`."""
        ...


RetryAfterParser = Callable[[httpx.Response], float | None]


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (Slack, generic webhooks); None if absent."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def post_json(
    http: httpx.Client,
    url: str,
    payload: Mapping[str, Any],
    *,
    channel: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    retry_after: RetryAfterParser = retry_after_header,
) -> httpx.Response:
    """POST ``payload`` as JSON and turn every failure into a :class:`DeliveryError`.

    Messages are redacted: a webhook URL is a credential.
    """
    where = redact_text(url)
    try:
        response = http.post(url, json=dict(payload), headers=dict(headers or {}), timeout=timeout)
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            f"no answer from {where} within {timeout:g} s ({type(exc).__name__})", channel=channel
        ) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(
            redact_text(f"could not reach {where}: {type(exc).__name__}: {exc}"), channel=channel
        ) from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    body = redact_text(response.text[:200])
    if status == 429:
        wait = retry_after(response)
        raise DeliveryError(
            f"rate limited by {where} (429), retry after {wait if wait is not None else '?'} s",
            channel=channel,
            retry_after=wait,
        )
    permanent = 400 <= status < 500 and status not in (408, 409, 425)
    raise DeliveryError(f"{where} answered {status}: {body}", channel=channel, permanent=permanent)


def json_body(response: httpx.Response) -> Any:
    """The response body as JSON, or None when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
