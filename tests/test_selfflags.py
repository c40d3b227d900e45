"""phased's own flags, evaluated by phased's own client from builtin_flags.yaml."""

from __future__ import annotations

import pytest

from phased import selfflags
from phased.sdk.client import Client


class TestDefaults:
    """ENABLE_DEBUG_CMD is on in dev and staging, off in prod; ENABLE_ALERTS is off everywhere."""

    @pytest.mark.parametrize(
        ("environment", "debug", "alerts"),
        [("dev", True, False), ("staging", True, False), ("prod", False, False)],
    )
    def test_per_environment(self, environment: str, debug: bool, alerts: bool) -> None:
        assert selfflags.debug_cmd_enabled(environment, env={}) is debug
        assert selfflags.alerts_enabled(environment, env={}) is alerts

    def test_unknown_environment_is_off(self) -> None:
        assert not selfflags.debug_cmd_enabled("qa", env={})

    def test_file_is_an_ordinary_flags_file(self) -> None:
        client = Client.from_file(selfflags.BUILTIN_FLAGS, environment="dev", env={})
        assert client.is_enabled(selfflags.ENABLE_DEBUG_CMD)


class TestOverrides:
    """The PHASED_ENABLE_* variables turn a feature on or off at once."""

    def test_on_in_prod(self) -> None:
        assert selfflags.debug_cmd_enabled("prod", env={"ENABLE_DEBUG_CMD": "true"})
        assert selfflags.alerts_enabled("prod", env={"ENABLE_ALERTS": "true"})

    def test_off_in_dev(self) -> None:
        assert not selfflags.debug_cmd_enabled("dev", env={"ENABLE_DEBUG_CMD": "false"})
