"""Durations (``7d``, ``12h``, ``30m``, ``2w``) and ISO 8601 times from the command line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from phased.errors import ValidationError

_DURATION = re.compile(r"^\s*(\d+)\s*([wdhm])\s*$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta | None:
    """``7d`` -> 7 days; None when the text is not a duration."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_instant(text: str, field: str) -> datetime:
    """An ISO 8601 time; UTC when it names no zone."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"cannot read {text!r}; give an ISO 8601 time like 2026-12-01T00:00:00Z "
            "or a duration like 7d, 12h, 30m",
            field=field,
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_time(text: str | None, now: datetime, field: str, *, ago: bool) -> datetime | None:
    """A duration counted from ``now`` (backwards if ``ago``) or an ISO 8601 time."""
    if text is None:
        return None
    delta = parse_duration(text)
    if delta is not None:
        return now - delta if ago else now + delta
    return parse_instant(text, field)
