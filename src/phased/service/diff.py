"""What differs between two flag sets, entity by entity (pure).

The same diff drives every write (only changed rows are written, each with
its version check and its audit entry) and what ``phased flags apply``
prints for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from phased.core.flags import Flag, FlagSet, FlagState, Segment

Kind = Literal["flag", "segment"]
Op = Literal["create", "update", "delete"]


def flag_document(flag: Flag) -> dict[str, Any]:
    """A flag as the flags file writes it (no key, defaults left out)."""
    data = flag.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("key", None)
    return data


def segment_document(segment: Segment) -> dict[str, Any]:
    """A segment as the flags file writes it."""
    data = segment.model_dump(mode="json", exclude_defaults=True)
    data.pop("key", None)
    return data


@dataclass(frozen=True, slots=True)
class EntityChange:
    """One flag or segment that is created, changed or deleted."""

    kind: Kind
    key: str
    op: Op
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    definition_changed: bool = False
    environments: tuple[str, ...] = ()
    """The environments whose state changed (flags only)."""

    @property
    def entity(self) -> str:
        """The audit entity: ``flag:awf_bundle``, ``segment:admins``."""
        return f"{self.kind}:{self.key}"

    def details(self) -> dict[str, Any]:
        """The audit details: before/after of the one changed state, or of the whole entity."""
        if (
            self.op == "update"
            and self.kind == "flag"
            and not self.definition_changed
            and len(self.environments) == 1
        ):
            env = self.environments[0]
            return {
                "environment": env,
                "before": _env_state(self.before, env),
                "after": _env_state(self.after, env),
            }
        return {"op": self.op, "before": self.before, "after": self.after}

    def lines(self) -> list[str]:
        """The change for people: ``~ flag x: environments.prod.rollout: 5 -> 25``."""
        sign = {"create": "+", "update": "~", "delete": "-"}[self.op]
        head = f"{sign} {self.kind} {self.key}"
        if self.op != "update":
            return [f"{head} ({'created' if self.op == 'create' else 'deleted'})"]
        before, after = _spelled(self.before, self.after), _spelled(self.after, self.before)
        old, new = flatten(before), flatten(after)
        out = []
        for path in sorted(set(old) | set(new), key=_path_order):
            if old.get(path, _MISSING) != new.get(path, _MISSING):
                out.append(
                    f"{head}: {path}: {_show(old.get(path, _MISSING))} -> "
                    f"{_show(new.get(path, _MISSING))}"
                )
        return out or [f"{head}: (reordered)"]


_MISSING: Any = object()


def _spelled(doc: dict[str, Any] | None, other: dict[str, Any] | None) -> dict[str, Any]:
    # Documents leave defaults out. A state both sides have is spelled in full,
    # so a change reads "enabled: true -> false", not "(unset) -> false".
    if not doc:
        return {}
    envs = doc.get("environments") or {}
    theirs = (other or {}).get("environments") or {}
    if not envs:
        return doc
    spelled = {e: {**_STATE_DEFAULTS, **s} if e in theirs else s for e, s in envs.items()}
    return {**doc, "environments": spelled}


def _env_state(doc: dict[str, Any] | None, env: str) -> dict[str, Any] | None:
    if doc is None:
        return None
    envs = doc.get("environments") or {}
    state = envs.get(env)
    # Documents leave defaults out; an audit entry spells them, so that a
    # change reads "rollout 0 -> 25", not "(unset) -> 25".
    return None if state is None else {**_STATE_DEFAULTS, **state}


_STATE_DEFAULTS: dict[str, Any] = FlagState().model_dump(mode="json")


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(unset)"
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _path_order(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [x]}`` -> ``{"a.b": 1, "c[0]": x}``; leaves only."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            out.update(flatten(inner, f"{prefix}[{index}]"))
    else:
        out[prefix] = value
    return out


def diff_flagsets(
    before: FlagSet, after: FlagSet, environments: tuple[str, ...] | None = None
) -> list[EntityChange]:
    """Segments first (creates and updates), then flags, then deletions.

    Args:
        environments: compare only these environments' states (all if None).
    """
    envs = environments if environments is not None else after.environments
    changes: list[EntityChange] = []
    for key in _ordered(before.segments, after.segments):
        old, new = before.segments.get(key), after.segments.get(key)
        if old == new:
            continue
        op: Op = "create" if old is None else "delete" if new is None else "update"
        changes.append(
            EntityChange(
                "segment",
                key,
                op,
                None if old is None else segment_document(old),
                None if new is None else segment_document(new),
                definition_changed=True,
            )
        )
    for key in _ordered(before.flags, after.flags):
        old_flag, new_flag = before.flags.get(key), after.flags.get(key)
        if old_flag == new_flag:
            continue
        old_doc = None if old_flag is None else flag_document(old_flag)
        new_doc = None if new_flag is None else flag_document(new_flag)
        if old_flag is None or new_flag is None:
            present = new_flag or old_flag
            assert present is not None
            changed = tuple(e for e in envs if e in present.environments)
            changes.append(
                EntityChange(
                    "flag",
                    key,
                    "create" if old_flag is None else "delete",
                    old_doc,
                    new_doc,
                    definition_changed=True,
                    environments=changed,
                )
            )
            continue
        definition_changed = _definition(old_doc) != _definition(new_doc)
        changed = tuple(
            e for e in envs if old_flag.environments.get(e) != new_flag.environments.get(e)
        )
        if definition_changed or changed:
            changes.append(
                EntityChange(
                    "flag",
                    key,
                    "update",
                    old_doc,
                    new_doc,
                    definition_changed=definition_changed,
                    environments=changed,
                )
            )
    # Segments appear before the flags that use them, and go after the flags that used them.
    return sorted(
        changes,
        key=lambda c: (1, c.kind == "segment") if c.op == "delete" else (0, c.kind != "segment"),
    )


def _definition(doc: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (doc or {}).items() if k != "environments"}


def _ordered(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))
