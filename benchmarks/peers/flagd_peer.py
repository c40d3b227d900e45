"""flagd's OpenFeature provider, in-process, reading a flag file.

``FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=...)``
(the in-process resolver with a file source; passing ``IN_PROCESS`` with a
path selects the same thing) evaluates JSON Logic locally and opens no
connection. The targeting rule is ``if role in [admin, pm] -> on, else
fractional [on 25, off 75]`` (``fractional`` buckets a murmur3 hash of the
flag key and the targeting key, so it is sticky on the user). Evaluation goes
through the OpenFeature API, ``client.get_boolean_value``, as an application
would. The provider's file watcher thread is stopped and joined on close.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Peer, Person

FLAGS: dict[str, Any] = {
    "$schema": "https://flagd.dev/schema/v0/flags.json",
    "flags": {
        FLAG: {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {
                "if": [
                    {"in": [{"var": "role"}, list(STAFF_ROLES)]},
                    "on",
                    {"fractional": [["on", PERCENT], ["off", 100 - PERCENT]]},
                ]
            },
        }
    },
}

_DOMAIN = "flagd-benchmark"


def build(workdir: Path) -> list[Adapter]:
    """One row: ``client.get_boolean_value(key, False, ctx)``."""
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
    from openfeature.evaluation_context import EvaluationContext

    path = workdir / "flagd-flags.json"
    path.write_text(json.dumps(FLAGS), encoding="utf-8")
    before = set(threading.enumerate())
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
    api.set_provider_and_wait(provider, _DOMAIN)
    started = [t for t in threading.enumerate() if t not in before]
    get = api.get_client(_DOMAIN).get_boolean_value

    def prepare(people: Sequence[Person]) -> list[EvaluationContext]:
        return [EvaluationContext(p.user, {"role": p.role}) for p in people]

    def run(items: list[EvaluationContext]) -> int:
        n = 0
        for ctx in items:
            if get(FLAG, False, ctx):
                n += 1
        return n

    def close() -> None:
        provider.shutdown()
        # The watcher notices the stop flag after its poll sleep (deadline_ms).
        for thread in started:
            thread.join(timeout=5)

    return [
        Adapter(
            name="flagd in-process (OpenFeature)",
            call=f'client.get_boolean_value("{FLAG}", False, ctx)',
            prepare=prepare,
            run=run,
            one=lambda ctx: get(FLAG, False, ctx),
            close=close,
        )
    ]


PEER = Peer(name="flagd", package="openfeature.contrib.provider.flagd", build=build)
