"""GrowthBook, evaluating locally from a features payload (no client key: no network).

The flag is two rules: a force rule with a condition on ``role`` and a force
rule with ``coverage: 0.25`` hashed on ``id`` (GrowthBook's percentage
rollout). Of the ways to evaluate offline, the cheapest correct one measured
here is one reused ``GrowthBook`` instance: ``set_attributes(attrs)`` then
``is_on(key)`` (about 4.5 µs). A new instance per request, as the SDK's README
suggests for web frameworks, costs about twice that; the async
``GrowthBookClient`` with a ``UserContext`` per user about 5 µs. A reused
instance is not thread-safe (its attributes are shared state): a concurrent
server would need one per thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Peer, Person

FEATURES: dict[str, Any] = {
    FLAG: {
        "defaultValue": False,
        "rules": [
            {"condition": {"role": {"$in": list(STAFF_ROLES)}}, "force": True},
            {"force": True, "coverage": PERCENT / 100, "hashAttribute": "id"},
        ],
    }
}


def build(workdir: Path) -> list[Adapter]:
    """One row: ``set_attributes`` + ``is_on`` on a reused instance."""
    from growthbook import GrowthBook

    gb = GrowthBook(features=FEATURES)
    set_attributes = gb.set_attributes
    is_on = gb.is_on

    def prepare(people: Sequence[Person]) -> list[dict[str, str]]:
        return [{"id": p.user, "role": p.role} for p in people]

    def run(items: list[dict[str, str]]) -> int:
        n = 0
        for attrs in items:
            set_attributes(attrs)
            if is_on(FLAG):
                n += 1
        return n

    def one(attrs: dict[str, str]) -> bool:
        set_attributes(attrs)
        return is_on(FLAG)

    return [
        Adapter(
            name="growthbook (reused instance)",
            call=f'gb.set_attributes(attrs); gb.is_on("{FLAG}")',
            prepare=prepare,
            run=run,
            one=one,
            close=gb.destroy,
        )
    ]


PEER = Peer(name="growthbook (reused instance)", package="growthbook", build=build)
