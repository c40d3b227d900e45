"""The one scenario every row evaluates, and the shape of a row's adapter.

The flag: staff (``role in [admin, pm]``) always get it; everyone else is in a
25 % rollout sticky on the user id. Every library expresses that in its own
offline format; the adapters live one per module next to this one.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

FLAG = "new-checkout"
STAFF_ROLES = ("admin", "pm")
PERCENT = 25
BUCKETS = 10_000

# Staff are a few percent of the traffic, as in a real admin -> PM -> everyone plan.
_ROLE_WEIGHTS = (("member", 94), ("admin", 3), ("pm", 3))


class Person(NamedTuple):
    """One user of the population: an id to bucket on and a role to target."""

    user: str
    role: str


def population(n: int, seed: int = 2) -> list[Person]:
    """``n`` distinct users, mostly members, a few admins and PMs (deterministic)."""
    rng = random.Random(seed)
    names = [name for name, _ in _ROLE_WEIGHTS]
    weights = [weight for _, weight in _ROLE_WEIGHTS]
    return [Person(f"user-{i}", rng.choices(names, weights)[0]) for i in range(n)]


def importable(name: str) -> bool:
    """Whether ``name`` (dotted or not) can be imported here, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a missing parent package of a dotted name
        return False


def _nothing() -> None:
    return None


@dataclass
class Adapter:
    """One row of the table: a library evaluating the flag in its cheapest correct way.

    ``prepare`` turns people into the library's own per-user input (its context
    object); it runs outside the timer and is timed separately. ``run`` is the
    timed loop: it evaluates every prepared item with the library call written
    inline (no wrapper call per item, so every row pays the same loop cost) and
    returns how many were on. ``one`` evaluates a single item for the checks.
    """

    name: str
    call: str
    """The expression timed, as a user of the library would write it."""
    prepare: Callable[[Sequence[Person]], list[Any]]
    run: Callable[[list[Any]], int]
    one: Callable[[Any], bool]
    close: Callable[[], None] = _nothing
    settle: Callable[[], None] = _nothing
    """Untimed, after each timed pass: lets background work (event delivery) finish."""
    notes: Callable[[], str] = lambda: ""
    """Extra evidence printed under the table (e.g. events delivered)."""
    builds_context: bool = True
    """False when ``prepare`` only packs (user, role): the call takes them as they are."""


@dataclass(frozen=True)
class Peer:
    """A peer library: the package it needs and how to build its rows in ``workdir``."""

    name: str
    package: str
    """The import name probed to decide whether the peer is installed."""
    build: Callable[[Path], list[Adapter]]


@dataclass(frozen=True)
class Share:
    """How often the flag was on, for members and for staff, in percent."""

    member_on: float
    staff_on: float
    members: int
    staff: int = field(default=0)

    def ok(self, tolerance: float) -> bool:
        """Members within ``tolerance`` points of the rollout, staff always on."""
        return abs(self.member_on - PERCENT) <= tolerance and self.staff_on == 100.0


def measure_share(adapter: Adapter, people: Sequence[Person]) -> Share:
    """Evaluate everyone once through ``adapter.one`` and count who got the flag."""
    items = adapter.prepare(people)
    member_on = members = staff_on = staff = 0
    for person, item in zip(people, items, strict=True):
        on = adapter.one(item)
        if person.role in STAFF_ROLES:
            staff += 1
            staff_on += on
        else:
            members += 1
            member_on += on
    return Share(
        member_on=100.0 * member_on / max(members, 1),
        staff_on=100.0 * staff_on / max(staff, 1),
        members=members,
        staff=staff,
    )
