"""Durations and ISO 8601 times from the command line.

Durations use the plans' grammar (:mod:`phased.core.durations`): ``90s``,
``30m``, ``12h``, ``7d``, ``2w`` or a sum like ``1h30m``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from phased.core import durations
from phased.errors import ValidationError


def parse_duration(text: str) -> timedelta | None:
    """``7d`` -> 7 days, ``1h30m`` -> 90 minutes; None when the text is not a duration."""
    try:
        return durations.parse_duration(text)
    except ValueError:
        return None


def parse_instant(text: str, field: str) -> datetime:
    """An ISO 8601 time; UTC when it names no zone."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"cannot read {text!r}; give an ISO 8601 time like 2026-12-01T00:00:00Z "
            f"or a duration: {durations.DURATION_RULE}",
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
