"""The pure-Python floor: what the flag costs with nothing around it.

A role test, one f-string, one 32-bit MurmurHash3 and one comparison — the
least any Python evaluator of this flag can do per call. phased's distance to
this row is its overhead (the call, the kwargs dict, the compiled closure).

``openfeature_floor`` serves the same expression through a minimal OpenFeature
provider: the least any provider can cost through ``get_boolean_value``, so
the OpenFeature rows can be read against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.peers.base import (
    BUCKETS,
    FLAG,
    PERCENT,
    STAFF_ROLES,
    Adapter,
    Person,
    importable,
)
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


def openfeature_floor() -> Adapter | None:
    """The floor expression behind the OpenFeature API; None without openfeature-sdk."""
    if not importable("openfeature"):
        return None
    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagResolutionDetails
    from openfeature.provider import AbstractProvider
    from openfeature.provider.metadata import Metadata

    class FloorProvider(AbstractProvider):
        def get_metadata(self) -> Metadata:
            return Metadata(name="floor")

        def resolve_boolean_details(
            self,
            flag_key: str,
            default_value: bool,
            evaluation_context: EvaluationContext | None = None,
        ) -> FlagResolutionDetails[bool]:
            ctx = evaluation_context
            if ctx is None or ctx.targeting_key is None:
                return FlagResolutionDetails(default_value)
            return FlagResolutionDetails(_on(ctx.targeting_key, str(ctx.attributes.get("role"))))

        def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError("the floor provider serves booleans only")

        resolve_string_details = _unsupported
        resolve_integer_details = _unsupported
        resolve_float_details = _unsupported
        resolve_object_details = _unsupported

    domain = "floor-benchmark"
    provider = FloorProvider()
    api.set_provider_and_wait(provider, domain)
    get = api.get_client(domain).get_boolean_value

    def prepare(people: Sequence[Person]) -> list[EvaluationContext]:
        return [EvaluationContext(p.user, {"role": p.role}) for p in people]

    def run(items: list[EvaluationContext]) -> int:
        n = 0
        for ctx in items:
            if get(FLAG, False, ctx):
                n += 1
        return n

    return Adapter(
        name="floor via OpenFeature",
        call=f'of_client.get_boolean_value("{FLAG}", False, ctx)  # provider: the floor',
        prepare=prepare,
        run=run,
        one=lambda ctx: get(FLAG, False, ctx),
        close=provider.shutdown,
    )
