"""The pure-Python floor: what the flag costs with nothing around it.

A role test, one f-string, one 32-bit MurmurHash3 and one comparison — the
least any Python evaluator of this flag can do per call. phased's distance to
this row is its overhead (the call, the kwargs dict, the compiled closure).
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.peers.base import BUCKETS, FLAG, PERCENT, STAFF_ROLES, Adapter, Person
from mmh3 import hash as mmh3_hash

_STAFF = frozenset(STAFF_ROLES)
_THRESHOLD = PERCENT * BUCKETS // 100


def _on(user: str, role: str) -> bool:
    return role in _STAFF or mmh3_hash(f"{FLAG}:{user}", 0, False) % BUCKETS < _THRESHOLD


def _pairs(people: Sequence[Person]) -> list[tuple[str, str]]:
    return [(p.user, p.role) for p in people]


def _run(items: list[tuple[str, str]]) -> int:
    n = 0
    staff, salt, threshold = _STAFF, FLAG, _THRESHOLD
    for user, role in items:
        if role in staff or mmh3_hash(f"{salt}:{user}", 0, False) % 10_000 < threshold:
            n += 1
    return n


def build() -> Adapter:
    """The floor row."""
    return Adapter(
        name="floor: f-string + mmh3 + compare",
        call=f'r in staff or mmh3.hash(f"{FLAG}:{{u}}", 0, False) % 10000 < 2500',
        prepare=_pairs,
        run=_run,
        one=lambda item: _on(item[0], item[1]),
        builds_context=False,
    )
