"""phased through OpenFeature: ``PhasedProvider`` behind ``client.get_boolean_value``.

The same scenario flag as phased's own rows (``phased_rows.FLAGS_YAML``),
evaluated the way an application that standardised on OpenFeature would:
``api.set_provider_and_wait(PhasedProvider(client), domain)`` once, then
``of_client.get_boolean_value(key, False, EvaluationContext(user, {"role": r}))``.
The difference to the ``phased is_enabled`` row is the OpenFeature SDK's own
cost (hooks, context merging, details objects); flagd's row pays the same.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.peers.base import FLAG, Adapter, Person, importable

_DOMAIN = "phased-openfeature-benchmark"


def phased_openfeature_row(workdir: Path | None = None) -> Adapter | None:
    """The ``phased via OpenFeature`` row, or None when openfeature-sdk is not installed."""
    if not importable("openfeature"):
        return None
    from benchmarks.peers import phased_rows
    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext

    from phased.openfeature import PhasedProvider

    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="phased-of-"))
    client = phased_rows.client(workdir)
    provider = PhasedProvider(client)
    api.set_provider_and_wait(provider, _DOMAIN)
    get = api.get_client(_DOMAIN).get_boolean_value

    def prepare(people: Sequence[Person]) -> list[EvaluationContext]:
        # The targeting key becomes phased's ``user``; role is an attribute.
        return [EvaluationContext(p.user, {"role": p.role}) for p in people]

    def run(items: list[EvaluationContext]) -> int:
        n = 0
        for ctx in items:
            if get(FLAG, False, ctx):
                n += 1
        return n

    def close() -> None:
        provider.shutdown()
        client.close()

    return Adapter(
        name="phased via OpenFeature",
        call=f'of_client.get_boolean_value("{FLAG}", False, ctx)',
        prepare=prepare,
        run=run,
        one=lambda ctx: get(FLAG, False, ctx),
        close=close,
    )
