"""Unleash, bootstrapped from a features file, with no server.

``FileCache.bootstrap_from_file`` seeds the toggles (the ``/api/client/features``
format); ``initialize_client(fetch_toggles=False)`` reads them from the cache
and never polls; registration and metrics are disabled, so nothing is sent.
The URL is a loopback address that is never contacted. The flag is two
strategies (Unleash ORs them): ``default`` constrained to ``role IN
[admin, pm]`` and ``flexibleRollout`` at 25 % sticky on ``userId``. Custom
context fields go under ``properties``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Peer, Person

FEATURES: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": FLAG,
            "type": "release",
            "enabled": True,
            "project": "default",
            "impressionData": False,
            "strategies": [
                {
                    "name": "default",
                    "parameters": {},
                    "constraints": [
                        {
                            "contextName": "role",
                            "operator": "IN",
                            "values": list(STAFF_ROLES),
                            "inverted": False,
                            "caseInsensitive": False,
                        }
                    ],
                },
                {
                    "name": "flexibleRollout",
                    "parameters": {
                        "rollout": str(PERCENT),
                        "stickiness": "userId",
                        "groupId": FLAG,
                    },
                    "constraints": [],
                },
            ],
        }
    ],
}


def build(workdir: Path) -> list[Adapter]:
    """One row: ``client.is_enabled(key, context)``."""
    from UnleashClient import UnleashClient  # type: ignore[attr-defined]
    from UnleashClient.cache import FileCache
    from UnleashClient.utils import InstanceAllowType

    path = workdir / "unleash-features.json"
    path.write_text(json.dumps(FEATURES), encoding="utf-8")
    cache = FileCache("phased-benchmark", directory=str(workdir / "unleash-cache"))
    cache.bootstrap_from_file(path)
    client = UnleashClient(
        url="http://127.0.0.1:9/api",
        app_name="phased-benchmark",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
        # The tests build the client more than once in one process.
        multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
    )
    client.initialize_client(fetch_toggles=False)
    is_enabled = client.is_enabled

    def prepare(people: Sequence[Person]) -> list[dict[str, Any]]:
        return [{"userId": p.user, "properties": {"role": p.role}} for p in people]

    def run(items: list[dict[str, Any]]) -> int:
        n = 0
        for ctx in items:
            if is_enabled(FLAG, ctx):
                n += 1
        return n

    return [
        Adapter(
            name="unleash (bootstrapped)",
            call=f'client.is_enabled("{FLAG}", ctx)',
            prepare=prepare,
            run=run,
            one=lambda ctx: is_enabled(FLAG, ctx),
            close=client.destroy,
        )
    ]


PEER = Peer(name="unleash", package="UnleashClient", build=build)
