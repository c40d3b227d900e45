"""A rollout's history as a story: runs of holds folded into one line, the rest standing out.

Pure and generic over the entry type (the service's ``HistoryEntry``, or
anything with a kind, a stage and a time), so it is easy to test on its own:
collapsing never drops or reorders a non-hold entry, and the counts of the
lines add up to the number of entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

NOTABLE = frozenset(
    {"advance", "approve", "check", "pause", "resume", "rollback", "complete", "apply", "drift"}
)
"""Kinds that change something or record a person's act: shown prominently."""


@dataclass(frozen=True, slots=True)
class StoryLine(Generic[T]):
    """One line of the story: a single entry, or a run of holds at one stage."""

    kind: str
    first: T
    last: T
    count: int
    """1 for a single entry; the number of holds folded into this line otherwise."""

    @property
    def collapsed(self) -> bool:
        """Several holds shown as one line."""
        return self.count > 1


def collapse(
    entries: Sequence[T],
    *,
    kind: Callable[[T], str],
    stage: Callable[[T], str],
    hold: str = "hold",
) -> list[StoryLine[T]]:
    """Consecutive holds at the same stage folded into one line; every other entry kept.

    Args:
        entries: in time order (either direction; lines keep that order).
        kind: an entry's kind (``hold``, ``advance``, ...).
        stage: an entry's stage (holds at different stages stay apart).
    """
    out: list[StoryLine[T]] = []
    for entry in entries:
        k = kind(entry)
        if k == hold and out and out[-1].kind == hold and stage(out[-1].last) == stage(entry):
            prev = out[-1]
            out[-1] = StoryLine(hold, prev.first, entry, prev.count + 1)
        else:
            out.append(StoryLine(k, entry, entry, 1))
    return out


def span(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The earlier and the later of two moments (lines may run newest first)."""
    return (first, last) if first <= last else (last, first)
