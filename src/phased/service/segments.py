"""Segments: named, reusable audiences that flag rules refer to."""

from __future__ import annotations

from typing import Any

from phased.core.conditions import AllOf, Condition, parse_expression
from phased.core.flags import FlagSet, Segment
from phased.errors import ConflictError, ValidationError
from phased.service.base import (
    Result,
    check_version,
    mutation,
    require_segment,
    result_of,
    validated,
)
from phased.service.flags import load_flagset
from phased.store.engine import Store


def parse_where(expressions: list[str] | tuple[str, ...]) -> Condition:
    """``--where`` expressions, all of which must hold."""
    if not expressions:
        raise ValidationError(
            "a segment needs at least one condition, e.g. --where 'role in [admin, pm]'",
            field="where",
        )
    parts = tuple(parse_expression(text, "where") for text in expressions)
    return parts[0] if len(parts) == 1 else AllOf(parts)


def list_segments(store: Store) -> list[Segment]:
    """Every segment, by key."""
    return [s for _, s in sorted(load_flagset(store).segments.items())]


def get_segment(store: Store, key: str) -> tuple[Segment, list[str]]:
    """The segment and the places (``flag@env rules[i]``) that use it."""
    flagset = load_flagset(store)
    return require_segment(flagset, key), usages(flagset, key)


def usages(flagset: FlagSet, key: str) -> list[str]:
    """Every rule that refers to segment ``key``."""
    return [
        f"{flag_key}@{env} rules[{i}]"
        for flag_key, flag in sorted(flagset.flags.items())
        for env, state in flag.environments.items()
        for i, rule in enumerate(state.rules)
        if rule.segment == key
    ]


def segment_dict(segment: Segment) -> dict[str, Any]:
    """JSON for ``--json`` output."""
    return segment.model_dump(mode="json")


def create_segment(
    store: Store,
    *,
    actor: str | None,
    key: str,
    where: list[str] | tuple[str, ...],
    description: str = "",
) -> Result:
    """Create a segment from one or more ``attr op value`` expressions (all must hold)."""
    condition = parse_where(where)
    segment = validated(lambda: Segment(key=key, description=description, where=condition))
    with mutation(store, actor) as m:
        flagset = m.snapshot.flagset
        if key in flagset.segments:
            raise ConflictError(
                f"segment {key!r} exists already (version {m.snapshot.segment_versions[key]}); "
                "delete it first or pick another name",
                field="segment",
            )
        after = validated(
            lambda: FlagSet(
                environments=flagset.environments,
                segments={**flagset.segments, key: segment},
                flags=flagset.flags,
            )
        )
        m.commit(after, "segment.create")
    return result_of(m)


def delete_segment(
    store: Store, *, actor: str | None, key: str, expected_version: int | None = None
) -> Result:
    """Delete a segment no rule uses any more."""
    with mutation(store, actor) as m:
        flagset = m.snapshot.flagset
        require_segment(flagset, key)
        check_version(m.snapshot.segment_versions.get(key), expected_version, f"segment {key!r}")
        used = usages(flagset, key)
        if used:
            raise ConflictError(
                f"segment {key!r} is used by {', '.join(used)}; remove those rules first",
                field="segment",
            )
        after = validated(
            lambda: FlagSet(
                environments=flagset.environments,
                segments={k: s for k, s in flagset.segments.items() if k != key},
                flags=flagset.flags,
            )
        )
        m.commit(after, "segment.delete")
    return result_of(m)
