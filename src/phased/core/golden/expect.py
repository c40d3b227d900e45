"""Checking one turn's output against its ``expect`` mapping.

The keys, as in seed 003's scenarios:

- ``mustInclude`` / ``mustNotInclude``: substrings (case-sensitive) of the
  output's text: the string itself, or the ``text`` field of a mapping, or
  else its JSON form;
- ``regex`` / ``mustMatch`` and ``mustNotMatch``: regular expressions searched
  in that text;
- ``equals``: the whole output;
- ``<field>AtMost`` / ``<field>AtLeast``: the length of that field (a list,
  string or mapping) or its value when it is a number; ``choicesAtMost: 5``;
- any other key: the value of that field (``sceneChange: true``).

A field may be a dotted path (``scene.choices``; list items by index).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phased.core.golden.scenario import BOUND_SUFFIXES, REGEX_KEYS, TEXT_LISTS

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Failure:
    """One expectation that did not hold: which key, and what was seen."""

    key: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-safe form."""
        return {"key": self.key, "message": self.message}


def text_of(output: Any) -> str:
    """The text ``mustInclude`` and regexes look at."""
    if isinstance(output, str):
        return output
    if isinstance(output, Mapping) and isinstance(output.get("text"), str):
        return str(output["text"])
    return json.dumps(output, sort_keys=True, ensure_ascii=False, default=str)


def field_value(output: Any, path: str) -> Any:
    """The value at a dotted ``path`` of ``output``; a private sentinel when absent."""
    value = output
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _measure(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str | list | Mapping):
        return float(len(value))
    return None


def _check_bound(output: Any, key: str, limit: float) -> Failure | None:
    suffix = "AtMost" if key.endswith("AtMost") else "AtLeast"
    path = key[: -len(suffix)]
    value = field_value(output, path)
    if value is _MISSING:
        return Failure(key, f"the output has no field {path!r} (output: {_short(output)})")
    measured = _measure(value)
    if measured is None:
        return Failure(key, f"{path} is {_short(value)}: neither a number nor a list/string")
    ok = measured <= limit if suffix == "AtMost" else measured >= limit
    if ok:
        return None
    what = f"{path} length" if not isinstance(value, int | float) else path
    relation = ">" if suffix == "AtMost" else "<"
    return Failure(key, f"{what} {measured:g} {relation} {limit:g}")


def check_turn(output: Any, expect: Mapping[str, Any]) -> list[Failure]:
    """Every expectation of ``expect`` that ``output`` does not meet (empty: all hold)."""
    failures: list[Failure] = []
    text = text_of(output)
    for key, want in expect.items():
        if key == "mustInclude":
            missing = [s for s in _listed(want) if s not in text]
            if missing:
                failures.append(
                    Failure(key, f"missing {_short(missing)} in the text {_short(text)}")
                )
        elif key == "mustNotInclude":
            found = [s for s in _listed(want) if s in text]
            if found:
                failures.append(Failure(key, f"found {_short(found)} in the text {_short(text)}"))
        elif key in REGEX_KEYS:
            negate = key == "mustNotMatch"
            for pattern in _listed(want):
                hit = re.search(pattern, text) is not None
                if hit == negate:
                    verb = "matches" if negate else "does not match"
                    failures.append(Failure(key, f"the text {verb} /{pattern}/: {_short(text)}"))
        elif key == "equals":
            if output != want:
                failures.append(Failure(key, f"expected {_short(want)}, got {_short(output)}"))
        elif key.endswith(BOUND_SUFFIXES) and len(key) > len("AtMost"):
            failure = _check_bound(output, key, float(want))
            if failure is not None:
                failures.append(failure)
        else:
            value = field_value(output, key)
            if value is _MISSING:
                failures.append(
                    Failure(key, f"the output has no field {key!r} (output: {_short(output)})")
                )
            elif value != want or isinstance(value, bool) != isinstance(want, bool):
                failures.append(Failure(key, f"expected {_short(want)}, got {_short(value)}"))
    return failures


__all__ = ["TEXT_LISTS", "Failure", "check_turn", "field_value", "text_of"]
