"""Durations as people write them in plans: ``30m``, ``48h``, ``5d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+$")
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?\s*[wdhms]\s*)+$"
DURATION_RULE = "a number with a unit: 90s, 30m, 48h, 5d, 2w, or a sum like 1h30m"


def parse_duration(value: object) -> timedelta:
    """Read ``48h`` / ``5d`` / ``1h30m`` (or a timedelta, or 0) as a timedelta.

    Raises:
        ValueError: the text is not a duration; the message gives the format.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    if not isinstance(value, str) or not _WHOLE.match(value.lower()):
        raise ValueError(f"cannot read {value!r} as a duration; write {DURATION_RULE}")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(value.lower()))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest text that reads back to ``value``: ``48h`` -> ``2d``, 5400 s -> ``1h30m``."""
    seconds = round(value.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            out.append(f"{count}{unit}")
    return "".join(out)


def _serialize(value: timedelta) -> Any:
    return format_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_serialize, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30m", "48h", "5d"]}
    ),
]
"""A plan duration: validated from text, written back as text."""
