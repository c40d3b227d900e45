"""A readable, JSON-aware difference between a recorded and a current output.

Each line names where the two differ (``turns[0].output.choices[2]``) and
how: ``-`` only in the recording, ``+`` only now, ``~`` changed. Multi-line
strings are compared line by line as a unified diff.
"""

from __future__ import annotations

import difflib
import json
from typing import Any


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def diff_values(recorded: Any, current: Any, path: str = "") -> list[str]:
    """The differences, one per line; empty when the values are equal."""
    if _show(recorded) == _show(current):  # strict: true is not 1, 1 is not 1.0
        return []
    where = path or "(root)"
    if isinstance(recorded, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(recorded) | set(current), key=str):
            here = _join(path, str(key))
            if key not in current:
                out.append(f"- {here}: {_show(recorded[key])}")
            elif key not in recorded:
                out.append(f"+ {here}: {_show(current[key])}")
            else:
                out += diff_values(recorded[key], current[key], here)
        return out
    if isinstance(recorded, list) and isinstance(current, list):
        out = []
        for i in range(max(len(recorded), len(current))):
            here = _join(path, i)
            if i >= len(current):
                out.append(f"- {here}: {_show(recorded[i])}")
            elif i >= len(recorded):
                out.append(f"+ {here}: {_show(current[i])}")
            else:
                out += diff_values(recorded[i], current[i], here)
        return out
    if isinstance(recorded, str) and isinstance(current, str) and "\n" in recorded + current:
        lines = difflib.unified_diff(
            recorded.splitlines(), current.splitlines(), "recorded", "current", lineterm="", n=1
        )
        return [f"~ {where}:"] + [f"    {line}" for line in lines]
    return [f"~ {where}: {_show(recorded)} → {_show(current)}"]
