"""The JSONPath subset the web source reads a number with.

``$`` (the whole answer), ``.name``, ``['name']`` / ``["name"]``, ``[N]`` and
``[-N]`` (list items), e.g. ``$.data.result[0].value`` or
``$['error-rate'].p95``. Filters and wildcards are refused at ``plan validate``
(they could match several numbers, and a gate needs one).
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)|\[(?P<index>-?\d+)\]|\[(?P<q>['"])(?P<key>.*?)(?P=q)\]"""
)


class JsonPathError(ValueError):
    """A malformed path (a plan error) or one that finds nothing (an inconclusive check)."""


def parse_jsonpath(path: str) -> list[str | int]:
    """The steps of ``path``; raises :class:`JsonPathError` naming the first bad character."""
    if not path.startswith("$"):
        raise JsonPathError(f"a JSONPath starts with $ (got {path!r})")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            raise JsonPathError(
                f"cannot read {path!r} at character {pos + 1} ({path[pos:]!r}); supported: "
                "$.name, $['name'], $.list[0], $.list[-1]"
            )
        if match.group("name") is not None:
            steps.append(match.group("name"))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("key"))
        pos = match.end()
    return steps


def find(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``; raises :class:`JsonPathError` if nothing is there."""
    here = document
    walked = "$"
    for step in parse_jsonpath(path):
        if isinstance(step, int):
            if not isinstance(here, list) or not -len(here) <= step < len(here):
                size = f"a list of {len(here)}" if isinstance(here, list) else type(here).__name__
                raise JsonPathError(f"{path} finds nothing: {walked} is {size}, no item [{step}]")
            here = here[step]
            walked += f"[{step}]"
        else:
            if not isinstance(here, dict) or step not in here:
                keys = (
                    f"keys: {', '.join(sorted(map(str, here))[:10])}"
                    if isinstance(here, dict)
                    else f"a {type(here).__name__}"
                )
                raise JsonPathError(f"{path} finds nothing: {walked} has no {step!r} ({keys})")
            here = here[step]
            walked += f".{step}"
    return here


def as_number(value: Any, path: str) -> float:
    """A JSON number (or a numeric string, as Prometheus sends them) as a float."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise JsonPathError(f"{path} found {shown}, not a number")
