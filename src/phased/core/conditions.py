"""Conditions on context attributes: parse, render, compile to predicates.

A condition is written as a short expression (``role in [admin, pm]``,
``labels contains beta-test``, ``app_version semver_gte 2.4.0``) or as a
mapping combining others (``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``).
The same text form is stored in the database and shown in diffs, so a
condition always reads the way a person wrote it.

A missing attribute never matches any operator (``not_in`` included); wrap a
condition in ``not`` to match contexts that lack it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phased.errors import ValidationError

Context = Mapping[str, Any]
Predicate = Callable[[Context], bool]

OPERATORS: dict[str, str] = {
    "eq": "eq",
    "==": "eq",
    "in": "in",
    "not_in": "not_in",
    "not in": "not_in",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "gt": "gt",
    ">": "gt",
    "gte": "gte",
    ">=": "gte",
    "lt": "lt",
    "<": "lt",
    "lte": "lte",
    "<=": "lte",
    "semver_gte": "semver_gte",
}
LIST_OPERATORS = frozenset({"in", "not_in"})
NUMERIC_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})
VALID_OPERATORS = "eq, in, not_in, contains, starts_with, ends_with, gt, gte, lt, lte, semver_gte"

_ATTR = r"[A-Za-z_][A-Za-z0-9_.-]*"
_EXPR = re.compile(
    rf"^\s*(?P<attr>{_ATTR})\s+(?P<op>not\s+in|not_in|[a-z_]+|==|>=|<=|>|<)\s+(?P<value>.+?)\s*$"
)
_ITEM = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,\[\]]+?)\s*(?:,|$)""")

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Compare:
    """``attr op value``: one comparison of a context attribute."""

    attr: str
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every inner condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one inner condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The inner condition does not hold."""

    condition: Condition


Condition = Compare | AllOf | AnyOf | Not


def _scalar(text: str) -> Scalar:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _parse_list(text: str, field: str) -> tuple[Scalar, ...]:
    inner = text.strip()[1:-1]
    if not inner.strip():
        return ()
    items: list[Scalar] = []
    pos = 0
    while pos < len(inner):
        match = _ITEM.match(inner, pos)
        if match is None or match.end() == pos:
            raise ValidationError(f"cannot read the list {text!r}", field=field)
        items.append(_scalar(match.group(1)))
        pos = match.end()
    return tuple(items)


def parse_expression(text: str, field: str = "where") -> Compare:
    """Parse ``attr op value`` into a :class:`Compare`.

    Raises:
        ValidationError: naming the field, the text and the valid operators.
    """
    match = _EXPR.match(text)
    if match is None:
        raise ValidationError(
            f"cannot read {text!r}; write 'ATTRIBUTE OPERATOR VALUE', "
            "e.g. 'role in [admin, pm]' or 'labels contains beta-test'",
            field=field,
        )
    op_text = re.sub(r"\s+", " ", match.group("op"))
    op = OPERATORS.get(op_text)
    if op is None:
        raise ValidationError(
            f"unknown operator {op_text!r} in {text!r}; valid operators: {VALID_OPERATORS}",
            field=field,
        )
    raw = match.group("value").strip()
    value: Scalar | tuple[Scalar, ...]
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise ValidationError(f"unclosed list in {text!r}", field=field)
        value = _parse_list(raw, field)
    else:
        value = _scalar(raw)
    if op in LIST_OPERATORS and not isinstance(value, tuple):
        value = (value,)
    if op not in LIST_OPERATORS and isinstance(value, tuple):
        raise ValidationError(
            f"operator {op!r} takes one value, not a list, in {text!r}", field=field
        )
    if op in NUMERIC_OPERATORS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValidationError(f"operator {op!r} needs a number, got {raw!r}", field=field)
    if op == "semver_gte" and _semver(value) is None:
        raise ValidationError(
            f"operator 'semver_gte' needs a version like 2.4.0, got {raw!r}", field=field
        )
    return Compare(match.group("attr"), op, value)


def parse_condition(spec: object, field: str = "where") -> Condition:
    """Read a condition from its stored/YAML form (string, list or mapping)."""
    if isinstance(spec, Compare | AllOf | AnyOf | Not):
        return spec
    if isinstance(spec, str):
        return parse_expression(spec, field)
    if isinstance(spec, list):
        if not spec:
            raise ValidationError("an empty list of conditions matches nothing", field=field)
        parts = tuple(parse_condition(item, f"{field}[{i}]") for i, item in enumerate(spec))
        return parts[0] if len(parts) == 1 else AllOf(parts)
    if isinstance(spec, Mapping) and len(spec) == 1:
        ((kind, inner),) = spec.items()
        if kind in ("all", "any"):
            if not isinstance(inner, list) or not inner:
                raise ValidationError(f"'{kind}' takes a non-empty list", field=f"{field}.{kind}")
            items = tuple(
                parse_condition(item, f"{field}.{kind}[{i}]") for i, item in enumerate(inner)
            )
            return AllOf(items) if kind == "all" else AnyOf(items)
        if kind == "not":
            return Not(parse_condition(inner, f"{field}.not"))
    if (
        isinstance(spec, Mapping)
        and {"attr", "op"} <= set(spec)
        and set(spec)
        <= {
            "attr",
            "op",
            "value",
        }
    ):
        value = spec.get("value")
        rendered = _render_value(tuple(value) if isinstance(value, list) else value)
        return parse_expression(f"{spec['attr']} {spec['op']} {rendered}", field)
    raise ValidationError(
        f"expected an expression like 'role in [admin, pm]' or a mapping with one of "
        f"all / any / not, got {spec!r}",
        field=field,
    )


def _render_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value == "" or re.search(r"[\s,\[\]\"']", value) or _scalar(value) != value:
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return value
    return str(value)


def _render_value(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_render_scalar(v) for v in value) + "]"
    return _render_scalar(value)


def render(condition: Condition) -> object:
    """The stored/YAML form of a condition (inverse of :func:`parse_condition`)."""
    if isinstance(condition, Compare):
        return f"{condition.attr} {condition.op} {_render_value(condition.value)}"
    if isinstance(condition, AllOf):
        return {"all": [render(c) for c in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"any": [render(c) for c in condition.conditions]}
    return {"not": render(condition.condition)}


def attributes(condition: Condition) -> frozenset[str]:
    """Every context attribute the condition reads."""
    if isinstance(condition, Compare):
        return frozenset({condition.attr})
    if isinstance(condition, Not):
        return attributes(condition.condition)
    return frozenset().union(*(attributes(c) for c in condition.conditions))


def _semver(value: object) -> tuple[int, ...] | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    core = str(value).strip().lstrip("vV").split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))


def _equivalents(value: Scalar) -> set[object]:
    # Contexts from a CLI or query string carry "30"/"true" where a YAML file
    # says 30/true: both spellings match, at no cost per evaluation.
    out: set[object] = {value}
    if isinstance(value, bool):
        out.add("true" if value else "false")
    elif isinstance(value, int | float):
        out.add(str(value))
    return out


def compile_condition(condition: Condition) -> Predicate:
    """A predicate over a context mapping. It never raises."""
    if isinstance(condition, AllOf):
        preds = tuple(compile_condition(c) for c in condition.conditions)
        return lambda ctx: all(p(ctx) for p in preds)
    if isinstance(condition, AnyOf):
        preds = tuple(compile_condition(c) for c in condition.conditions)
        return lambda ctx: any(p(ctx) for p in preds)
    if isinstance(condition, Not):
        inner = compile_condition(condition.condition)
        return lambda ctx: not inner(ctx)
    return _compile_compare(condition)


def _compile_compare(c: Compare) -> Predicate:
    attr, op, value = c.attr, c.op, c.value
    if op in ("eq", "in", "not_in"):
        members: frozenset[object] = frozenset().union(
            *(_equivalents(v) for v in (value if isinstance(value, tuple) else (value,)))
        )
        negate = op == "not_in"

        def member(ctx: Context) -> bool:
            got = ctx.get(attr)
            if got is None:
                return False
            try:
                return (got in members) is not negate
            except TypeError:  # an unhashable value (a list) is never a member
                return negate

        # Exposed so the evaluator can inline the membership test.
        member.attr = attr  # type: ignore[attr-defined]
        member.members = members  # type: ignore[attr-defined]
        member.negate = negate  # type: ignore[attr-defined]
        return member
    if op == "contains":
        needle = value

        def contains(ctx: Context) -> bool:
            got = ctx.get(attr)
            if isinstance(got, str):
                return isinstance(needle, str) and needle in got
            if isinstance(got, list | tuple | set | frozenset):
                return needle in got or (not isinstance(needle, str) and str(needle) in got)
            return False

        return contains
    if op in ("starts_with", "ends_with"):
        text = str(value)
        starts = op == "starts_with"

        def affix(ctx: Context) -> bool:
            got = ctx.get(attr)
            if not isinstance(got, str):
                return False
            return got.startswith(text) if starts else got.endswith(text)

        return affix
    if op in NUMERIC_OPERATORS:
        bound = float(value)  # type: ignore[arg-type]  # validated numeric at parse time
        compare: Callable[[float], bool] = {
            "gt": lambda x: x > bound,
            "gte": lambda x: x >= bound,
            "lt": lambda x: x < bound,
            "lte": lambda x: x <= bound,
        }[op]

        def numeric(ctx: Context) -> bool:
            got = ctx.get(attr)
            if got is None or isinstance(got, bool):
                return False
            try:
                return compare(float(got))
            except (TypeError, ValueError):
                return False

        return numeric
    minimum = _semver(value)

    def semver_gte(ctx: Context) -> bool:
        got = _semver(ctx.get(attr))
        return got is not None and minimum is not None and got >= minimum

    return semver_gte
