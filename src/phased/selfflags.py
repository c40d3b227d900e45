"""phased's own feature flags, evaluated by phased itself.

The flags live in ``builtin_flags.yaml`` next to this module (the ordinary
flags-file format, docs/flags-file.md) and are evaluated with
``phased.Client.from_file``, like any application's flags:

| flag | dev | staging | prod | override |
|---|---|---|---|---|
| ``enable_debug_cmd`` | on | on | off | ``ENABLE_DEBUG_CMD=true/false`` |
| ``enable_alerts`` | off | off | off | ``ENABLE_ALERTS=true/false`` |
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phased.sdk.client import Client

BUILTIN_FLAGS = Path(__file__).with_name("builtin_flags.yaml")
ENABLE_DEBUG_CMD = "enable_debug_cmd"
ENABLE_ALERTS = "enable_alerts"


def self_client(environment: str | None = None, *, env: Mapping[str, str] | None = None) -> Client:
    """A client over phased's own flags for ``environment`` (PHASED_ENV when None)."""
    from phased.sdk.client import Client

    if environment is None:
        from phased.settings import get_settings

        environment = get_settings().env
    return Client.from_file(BUILTIN_FLAGS, environment=environment, env=env)


def is_enabled(
    flag: str, environment: str | None = None, *, env: Mapping[str, str] | None = None
) -> bool:
    """Whether one of phased's own flags is on (off for an unknown flag or environment)."""
    return self_client(environment, env=env).is_enabled(flag)


def debug_cmd_enabled(
    environment: str | None = None, *, env: Mapping[str, str] | None = None
) -> bool:
    """``ENABLE_DEBUG_CMD``: may debug-last show traces here?"""
    return is_enabled(ENABLE_DEBUG_CMD, environment, env=env)


def alerts_enabled(environment: str | None = None, *, env: Mapping[str, str] | None = None) -> bool:
    """``ENABLE_ALERTS``: may alerts be sent here?"""
    return is_enabled(ENABLE_ALERTS, environment, env=env)
