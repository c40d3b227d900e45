"""Flagsmith in offline mode, evaluating from a local environment document.

``Flagsmith(offline_mode=True, offline_handler=LocalFileHandler(path))`` reads
the environment document (the API's ``environment-document`` shape) and makes
no request. The flag is off by default with two segment overrides: ``staff``
(``role IN "admin,pm"``, priority 0) and ``rollout-25`` (``PERCENTAGE_SPLIT``
25, which hashes the segment and the identity key: sticky per identity,
priority 1). A multivariate 25 % split would change the flag's value, not
whether it is enabled, so the percentage-split segment is the equivalent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Peer, Person


def _state(enabled: bool, uuid: int, priority: int | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "feature": {"id": 1, "name": FLAG},
        "enabled": enabled,
        "feature_state_value": None,
        "featurestate_uuid": f"00000000-0000-0000-0000-{uuid:012d}",
        "multivariate_feature_state_values": [],
    }
    if priority is not None:
        state["feature_segment"] = {"priority": priority}
    return state


def _segment(segment_id: int, name: str, condition: dict[str, str]) -> dict[str, Any]:
    inner = {"type": "ALL", "rules": [], "conditions": [condition]}
    return {
        "id": segment_id,
        "name": name,
        "rules": [{"type": "ALL", "rules": [inner], "conditions": []}],
        "feature_states": [_state(True, segment_id + 1, priority=segment_id - 1)],
    }


ENVIRONMENT: dict[str, Any] = {
    "api_key": "phased-benchmark",
    "name": "benchmark",
    "feature_states": [_state(False, 1)],
    "identity_overrides": [],
    "project": {
        "segments": [
            _segment(
                1, "staff", {"operator": "IN", "property_": "role", "value": ",".join(STAFF_ROLES)}
            ),
            _segment(
                2,
                f"rollout-{PERCENT}",
                {"operator": "PERCENTAGE_SPLIT", "property_": "", "value": str(PERCENT)},
            ),
        ]
    },
}


def build(workdir: Path) -> list[Adapter]:
    """One row: ``get_identity_flags(id, traits).is_feature_enabled(key)``."""
    from flagsmith import Flagsmith
    from flagsmith.offline_handlers import LocalFileHandler

    path = workdir / "flagsmith-environment.json"
    path.write_text(json.dumps(ENVIRONMENT), encoding="utf-8")
    fs = Flagsmith(offline_mode=True, offline_handler=LocalFileHandler(str(path)))
    identity_flags = fs.get_identity_flags

    def prepare(people: Sequence[Person]) -> list[tuple[str, dict[str, Any]]]:
        return [(p.user, {"role": p.role}) for p in people]

    def run(items: list[tuple[str, dict[str, Any]]]) -> int:
        n = 0
        for identifier, traits in items:
            if identity_flags(identifier, traits).is_feature_enabled(FLAG):
                n += 1
        return n

    def one(item: tuple[str, dict[str, Any]]) -> bool:
        return bool(identity_flags(item[0], item[1]).is_feature_enabled(FLAG))

    return [
        Adapter(
            name="flagsmith (offline)",
            call=f'fs.get_identity_flags(u, {{"role": r}}).is_feature_enabled("{FLAG}")',
            prepare=prepare,
            run=run,
            one=one,
        )
    ]


PEER = Peer(name="flagsmith", package="flagsmith", build=build)
