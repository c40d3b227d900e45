"""The HTTP plumbing the prometheus and web sources share: every failure a SourceQueryError."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from phased.errors import SourceQueryError
from phased.obs.redact import redact_text


def request_json(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    source: str,
    timeout: float,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    body: Any = None,
    accept_status: tuple[int, ...] = (),
) -> tuple[int, Any]:
    """Send one request and return (status, parsed JSON); raise a redacted SourceQueryError."""
    where = redact_text(url)
    try:
        response = http.request(
            method,
            url,
            params=dict(params) if params else None,
            json=body,
            headers=dict(headers),
            timeout=timeout,
        )
    except httpx.TimeoutException:
        raise SourceQueryError(
            f"no answer from {where} within {timeout:g} s", source=source
        ) from None
    except httpx.HTTPError as exc:
        raise SourceQueryError(
            redact_text(f"could not reach {where}: {type(exc).__name__}: {exc}"), source=source
        ) from None
    status = response.status_code
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not 200 <= status < 300 and status not in accept_status:
        body_text = redact_text(response.text[:200].strip())
        raise SourceQueryError(f"{where} answered {status}: {body_text}", source=source)
    if data is None and 200 <= status < 300:
        raise SourceQueryError(
            f"{where} answered {status} with a body that is not JSON: "
            f"{redact_text(response.text[:120].strip())!r}",
            source=source,
        )
    return status, data
