"""phased's own rows: ``is_enabled``, ``evaluate`` (with reason) and, once it exists,
the OpenFeature path through ``phased.openfeature.PhasedProvider``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Person, importable

from phased.sdk.client import Client

FLAGS_YAML = f"""\
version: 1
segments:
  staff: {{where: "role in [{", ".join(STAFF_ROLES)}]"}}
flags:
  {FLAG}:
    environments:
      prod: {{rollout: {PERCENT}, rules: [{{segment: staff}}]}}
"""


def _pairs(people: Sequence[Person]) -> list[tuple[str, str]]:
    return [(p.user, p.role) for p in people]


def client(workdir: Path) -> Client:
    """A phased client reading the scenario's flags file, as an application would."""
    path = workdir / "phased-flags.yaml"
    path.write_text(FLAGS_YAML, encoding="utf-8")
    return Client.from_file(path, environment="prod")


def _track_one(c: Client, item: tuple[str, str]) -> bool:
    with c.track(FLAG, user=item[0], role=item[1]) as t:
        return t.enabled


def build(workdir: Path) -> list[Adapter]:
    """The ``is_enabled`` row, the ``evaluate`` row and, when available, OpenFeature."""
    c = client(workdir)
    is_enabled = c.is_enabled
    evaluate = c.evaluate

    def run_enabled(items: list[tuple[str, str]]) -> int:
        n = 0
        for user, role in items:
            if is_enabled(FLAG, user=user, role=role):
                n += 1
        return n

    def run_evaluate(items: list[tuple[str, str]]) -> int:
        n = 0
        for user, role in items:
            if evaluate(FLAG, user=user, role=role).value is True:
                n += 1
        return n

    track = c.track

    def run_track(items: list[tuple[str, str]]) -> int:
        n = 0
        for user, role in items:
            with track(FLAG, user=user, role=role) as t:
                if t.enabled:
                    n += 1
        return n

    rows = [
        Adapter(
            name="phased is_enabled",
            call=f'client.is_enabled("{FLAG}", user=u, role=r)',
            prepare=_pairs,
            run=run_enabled,
            one=lambda item: is_enabled(FLAG, user=item[0], role=item[1]),
            builds_context=False,
        ),
        Adapter(
            name="phased evaluate (reason)",
            call=f'client.evaluate("{FLAG}", user=u, role=r)',
            prepare=_pairs,
            run=run_evaluate,
            one=lambda item: evaluate(FLAG, user=item[0], role=item[1]).value is True,
            builds_context=False,
        ),
    ]
    rows.append(
        Adapter(
            name="phased track() (evaluate + measure, unit kept)",
            call=f'with client.track("{FLAG}", user=u, role=r) as t: ...',
            prepare=_pairs,
            run=run_track,
            one=lambda item: _track_one(c, item),
            builds_context=False,
        )
    )
    of_row = openfeature_adapter(c)
    if of_row is not None:
        rows.append(of_row)
    return rows


def openfeature_adapter(client: Client) -> Adapter | None:
    """The OpenFeature row through phased's own provider; None until it exists.

    ``phased.openfeature.PhasedProvider`` is specified by the control-plane
    issue (an OpenFeature provider wrapping a client). The context carries the
    user both as the targeting key and as ``user``, so the row is correct
    whichever of the two the provider maps to phased's ``user``; the share
    checks catch a provider that maps neither.
    """
    if not (importable("openfeature") and importable("phased.openfeature")):
        return None
    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext

    module: Any = importlib.import_module("phased.openfeature")
    provider = module.PhasedProvider(client)
    domain = "phased-benchmark"
    api.set_provider_and_wait(provider, domain)
    of_client = api.get_client(domain)
    get = of_client.get_boolean_value

    def prepare(people: Sequence[Person]) -> list[EvaluationContext]:
        return [EvaluationContext(p.user, {"user": p.user, "role": p.role}) for p in people]

    def run(items: list[EvaluationContext]) -> int:
        n = 0
        for ctx in items:
            if get(FLAG, False, ctx):
                n += 1
        return n

    return Adapter(
        name="phased via OpenFeature",
        call=f'of_client.get_boolean_value("{FLAG}", False, ctx)',
        prepare=prepare,
        run=run,
        one=lambda ctx: get(FLAG, False, ctx),
        close=provider.shutdown,
    )
