"""The SDK's flag set per environment: serialised once, served from memory.

Most SDK requests are conditional GETs that end in 304, so that path must be
nearly free: each environment's payload is built into bytes with a strong
ETag whenever the store revision moves, and a request only compares strings.
The payload (see ``docs/api.md``) is one environment's flag set as JSON
(``FlagSet.model_validate`` reads it back) plus the current rollout stage of
each flag, so outcomes land in the right
window.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from phased.core.flags import FlagSet
from phased.service.flags import load_flagset
from phased.store.engine import Store

PAYLOAD_VERSION = 1

StageSource = Callable[[Store, str], dict[str, str]]


def no_stages(_store: Store, _environment: str) -> dict[str, str]:
    """Used until a rollout service can say which stage each flag is in."""
    return {}


@dataclass(frozen=True, slots=True)
class Payload:
    """One environment's serialised flag set."""

    environment: str
    body: bytes
    etag: str
    revision: int


def build_payload(
    store: Store, environment: str, revision: int, stages: StageSource = no_stages
) -> Payload:
    """Serialise one environment's flag set (and its flags' current stages)."""
    stored = load_flagset(store, environment)
    # Only this environment: an sdk token must not learn other environments' rules.
    flagset = FlagSet(
        environments=(environment,),
        segments=stored.segments,
        flags={
            key: flag.model_copy(
                update={
                    "environments": {
                        e: st for e, st in flag.environments.items() if e == environment
                    }
                }
            )
            for key, flag in stored.flags.items()
        },
    )
    document = flagset.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    content = {
        "version": PAYLOAD_VERSION,
        "environment": environment,
        "stages": dict(sorted(stages(store, environment).items())),
        "flagset": document,
    }
    body = json.dumps(content, separators=(",", ":"), sort_keys=False, default=str).encode()
    # From the content alone, so replicas agree and an unrelated mutation
    # (a token, an audit-only change) does not make every client refetch.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Payload(environment, body, etag, revision)


class SdkCache:
    """Payloads by environment plus a wake-up for streams waiting on a change."""

    def __init__(self, environments: tuple[str, ...], stages: StageSource = no_stages) -> None:
        self.environments = environments
        self.stages = stages
        self._payloads: dict[str, Payload] = {}
        self._changed: dict[str, asyncio.Event] = {}

    def get(self, environment: str) -> Payload | None:
        """The current payload (None before the first build)."""
        return self._payloads.get(environment)

    def rebuild(self, store: Store, revision: int) -> list[str]:
        """Rebuild every environment; returns the ones whose ETag changed (blocking I/O)."""
        changed = []
        for env in self.environments:
            payload = build_payload(store, env, revision, self.stages)
            old = self._payloads.get(env)
            if old is None or old.etag != payload.etag:
                changed.append(env)
            self._payloads[env] = payload
        return changed

    def event(self, environment: str) -> asyncio.Event:
        """The event set at the next change of ``environment`` (call on the loop)."""
        event = self._changed.get(environment)
        if event is None:
            event = self._changed[environment] = asyncio.Event()
        return event

    def notify(self, environments: list[str]) -> None:
        """Wake every stream of ``environments`` (call on the loop)."""
        for env in environments:
            event = self._changed.pop(env, None)
            if event is not None:
                event.set()

    def matches(self, environment: str, if_none_match: str | None) -> bool:
        """True when the client already has the current payload (answer 304)."""
        payload = self._payloads.get(environment)
        if payload is None or not if_none_match:
            return False
        if if_none_match.strip() == "*":
            return True
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return payload.etag in tags
