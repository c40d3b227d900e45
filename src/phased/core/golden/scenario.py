"""Reading a golden scenario file: every mistake names the file, the line and the field.

The format follows seed 003's ``backend/goldens/*.json``::

    {"name": "first-meet-kiera", "description": "...", "sessionSeed": 424242,
     "turns": [{"input": "I step into the glade ...",
                "expect": {"mustInclude": ["glade", "eyes"], "choicesAtMost": 5,
                           "sceneChange": true}}]}

``seed`` and ``sessionSeed`` are the same field. ``scrub`` lists the volatile
values to blank before outputs are recorded or compared (see
:mod:`phased.core.golden.scrub`). YAML is accepted as well (JSON is YAML).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phased.core.golden.scrub import PRESETS, Scrubber
from phased.core.source import Document, parse_yaml

KNOWN_FIELDS = ("name", "description", "seed", "sessionSeed", "turns", "scrub")
TEXT_LISTS = ("mustInclude", "mustNotInclude")
REGEX_KEYS = ("regex", "mustMatch", "mustNotMatch")
BOUND_SUFFIXES = ("AtMost", "AtLeast")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

__all__ = ["Scenario", "Scrubber", "Turn", "parse_scenario"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One step of a scenario: what is sent and what the answer must satisfy."""

    input: Any
    expect: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A deterministic conversation with the system under test."""

    name: str
    turns: tuple[Turn, ...]
    path: str
    description: str = ""
    seed: int | str | None = None
    scrubbers: tuple[Scrubber, ...] = ()


def _strings(doc: Document, value: Any, loc: tuple[str | int, ...]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise doc.error(f"must be a string or a non-empty list of strings (got {value!r})", loc)


def _check_expect(doc: Document, expect: Any, loc: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(expect, dict):
        raise doc.error(f"must be a mapping of expectations (got {expect!r})", loc)
    for key, value in expect.items():
        here = (*loc, str(key))
        if key in TEXT_LISTS:
            _strings(doc, value, here)
        elif key in REGEX_KEYS:
            for pattern in _strings(doc, value, here):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise doc.error(
                        f"the regular expression {pattern!r} does not compile ({exc}); "
                        "escape special characters such as ( [ . with a backslash",
                        here,
                    ) from None
        elif (
            str(key).endswith(BOUND_SUFFIXES)
            and len(str(key)) > len("AtMost")
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise doc.error(f"must be a number (got {value!r})", here)
    return dict(expect)


def _check_scrub(doc: Document, items: Any) -> tuple[Scrubber, ...]:
    if not isinstance(items, list):
        raise doc.error("must be a list of scrubbers", ("scrub",))
    out: list[Scrubber] = []
    for i, item in enumerate(items):
        loc: tuple[str | int, ...] = ("scrub", i)
        if isinstance(item, str):
            if item not in PRESETS:
                raise doc.error(
                    f"unknown scrubber {item!r}; presets: {', '.join(PRESETS)}, "
                    "or a mapping {pattern: REGEX, replace: TEXT} / {path: a.b, replace: TEXT}",
                    loc,
                )
            out.append(PRESETS[item])
            continue
        if not isinstance(item, dict) or ("pattern" in item) == ("path" in item):
            raise doc.error(
                "give a preset name, or a mapping with exactly one of pattern / path", loc
            )
        extra = set(item) - {"pattern", "path", "replace"}
        if extra:
            raise doc.error(
                f"unknown key {sorted(extra)[0]!r} (known: pattern, path, replace)", loc
            )
        replace = item.get("replace", "<scrubbed>")
        if not isinstance(replace, str):
            raise doc.error(f"must be a string (got {replace!r})", (*loc, "replace"))
        if "pattern" in item:
            pattern = item["pattern"]
            if not isinstance(pattern, str):
                raise doc.error(f"must be a string (got {pattern!r})", (*loc, "pattern"))
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise doc.error(
                    f"the regular expression {pattern!r} does not compile ({exc})",
                    (*loc, "pattern"),
                ) from None
            out.append(Scrubber(replace=replace, pattern=compiled))
        else:
            path = item["path"]
            if not isinstance(path, str) or not path:
                raise doc.error(
                    f"must be a dotted path like meta.id (got {path!r})", (*loc, "path")
                )
            out.append(Scrubber(replace=replace, path=path))
    return tuple(out)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """Parse and check one scenario file.

    Raises:
        SourceError: ``file:line: field: problem`` for the first mistake.
    """
    doc = parse_yaml(text, path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(
            "a scenario is a mapping with name, seed and turns (see docs/migrations.md)"
        )
    for key in data:
        if key not in KNOWN_FIELDS:
            raise doc.error(f"is not a known field (known: {', '.join(KNOWN_FIELDS)})", (str(key),))
    if "name" not in data:
        raise doc.error("name: is required (the scenario's name, e.g. first-meet-kiera)")
    name = data["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise doc.error(f"must be letters, digits, '.', '_' or '-' (got {name!r})", ("name",))
    if "seed" in data and "sessionSeed" in data:
        raise doc.error("give seed or sessionSeed, not both (they are the same field)", ("seed",))
    seed_key = "seed" if "seed" in data else "sessionSeed"
    seed = data.get(seed_key)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
        raise doc.error(f"must be an integer or a string (got {seed!r})", (seed_key,))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise doc.error(f"must be a string (got {description!r})", ("description",))
    if "turns" not in data:
        raise doc.error("turns: is required (a list of {input, expect})")
    turns_data = data["turns"]
    if not isinstance(turns_data, list) or not turns_data:
        raise doc.error("must be a non-empty list of {input, expect}", ("turns",))
    turns: list[Turn] = []
    for i, item in enumerate(turns_data):
        loc: tuple[str | int, ...] = ("turns", i)
        if not isinstance(item, dict):
            raise doc.error("must be a mapping with input and expect", loc)
        if "input" not in item:
            raise doc.error("is required (what the turn sends to the target)", (*loc, "input"))
        extra = set(item) - {"input", "expect"}
        if extra:
            raise doc.error("is not a known field (known: input, expect)", (*loc, sorted(extra)[0]))
        expect = _check_expect(doc, item.get("expect", {}), (*loc, "expect"))
        turns.append(Turn(input=item["input"], expect=expect, line=doc.line_of(loc)))
    scrubbers = _check_scrub(doc, data["scrub"]) if "scrub" in data else ()
    return Scenario(
        name=name,
        turns=tuple(turns),
        path=path,
        description=description,
        seed=seed,
        scrubbers=scrubbers,
    )
