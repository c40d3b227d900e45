"""Blanking volatile values (timestamps, ids) before outputs are recorded or compared.

A scrubber either rewrites every match of a pattern in every string of the
output, or replaces the value at one dotted path (``meta.request_id``,
``choices.0.id``). Presets cover the usual suspects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Scrubber:
    """One rule: a pattern over every string, or one path in the value."""

    replace: str
    pattern: re.Pattern[str] | None = None
    path: str | None = None


PRESETS: dict[str, Scrubber] = {
    "timestamps": Scrubber(
        replace="<timestamp>",
        pattern=re.compile(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
    ),
    "uuids": Scrubber(
        replace="<uuid>",
        pattern=re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
    ),
}
"""Named scrubbers a scenario can list by name: ``scrub: [timestamps, uuids]``."""


def _patterns(value: Any, rules: list[Scrubber]) -> Any:
    if isinstance(value, str):
        for rule in rules:
            assert rule.pattern is not None
            value = rule.pattern.sub(rule.replace, value)
        return value
    if isinstance(value, dict):
        return {k: _patterns(v, rules) for k, v in value.items()}
    if isinstance(value, list):
        return [_patterns(v, rules) for v in value]
    return value


def _at_path(value: Any, parts: list[str], replace: str) -> Any:
    if not parts:
        return replace
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict) and head in value:
        return {k: (_at_path(v, rest, replace) if k == head else v) for k, v in value.items()}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        return [_at_path(v, rest, replace) if i == index else v for i, v in enumerate(value)]
    return value  # a path that is absent scrubs nothing


def scrub(value: Any, scrubbers: Iterable[Scrubber]) -> Any:
    """A copy of ``value`` with every scrubber applied (paths first, then patterns)."""
    rules = list(scrubbers)
    for rule in rules:
        if rule.path is not None:
            value = _at_path(value, rule.path.split("."), rule.replace)
    patterns = [r for r in rules if r.pattern is not None]
    return _patterns(value, patterns) if patterns else value
