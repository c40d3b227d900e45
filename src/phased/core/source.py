"""YAML documents that remember where each field was written.

Flags files, plans and traffic models are YAML. A mistake must be reported as
``file:line: field: what is wrong and how to fix it``, so parsing keeps a map
from each field's path to its line and pydantic errors are translated through
it. Parsing text is pure; reading the file is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from phased.errors import SourceError

Path = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class Document:
    """Parsed YAML data plus the line (1-based) of every key and item."""

    def __init__(self, data: Any, lines: dict[Path, int], path: str) -> None:
        self.data = data
        self.lines = lines
        self.path = path

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """The line of the deepest known prefix of ``loc``."""
        parts = tuple(loc)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), None)

    def error(self, message: str, loc: Iterable[str | int] = ()) -> SourceError:
        """A :class:`SourceError` pointing at ``loc``."""
        parts = tuple(loc)
        return SourceError(
            message, path=self.path, line=self.line_of(parts), field=format_loc(parts) or None
        )

    def validate(self, model: type[M], *, context: dict[str, Any] | None = None) -> M:
        """Validate the data against ``model``; the first error names file, line and field."""
        try:
            return model.model_validate(self.data, context=context)
        except PydanticValidationError as exc:
            raise self.translate(exc) from None

    def translate(self, exc: PydanticValidationError) -> SourceError:
        """Turn the first pydantic error into a :class:`SourceError`."""
        first = exc.errors(include_url=False)[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p and "]" in p))
        message = str(first["msg"])
        message = re.sub(r"^(Value|Assertion) error, ", "", message)
        inner = re.match(r"^([A-Za-z0-9_.\[\]-]+): (.*)$", message, re.S)
        if inner and ("." in inner.group(1) or "[" in inner.group(1)):
            loc = loc + parse_loc(inner.group(1))
            message = inner.group(2)
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a known field (check the spelling; see the schema reference)"
        return self.error(message, loc)


def format_loc(loc: Iterable[str | int]) -> str:
    """``('stages', 2, 'gates', 0)`` -> ``stages[2].gates[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_loc(text: str) -> Path:
    """Inverse of :func:`format_loc`."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def parse_yaml(text: str, path: str = "<string>") -> Document:
    """Parse one YAML document, keeping lines; a syntax error names its line."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # unprintable characters are refused before parsing
        raise SourceError(f"invalid YAML: {' '.join(str(exc).split())}", path=path) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Document({}, {(): 1}, path)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        raise SourceError(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}", path=path) from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {(): node.start_mark.line + 1}
    _walk(node, (), lines, path)
    return Document(data, lines, path)


def _walk(node: yaml.Node, here: Path, lines: dict[Path, int], path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise SourceError(
                    f"duplicate key {key!r}",
                    path=path,
                    line=key_node.start_mark.line + 1,
                    field=format_loc((*here, key)),
                )
            seen.add(key)
            lines[(*here, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*here, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*here, index)] = item.start_mark.line + 1
            _walk(item, (*here, index), lines, path)
