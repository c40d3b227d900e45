"""The community Python provider (openfeature-provider-ofrep), unchanged, against a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from phased import Client
from server.ofrep_setup import FLAGS_FILE, load_flags

if TYPE_CHECKING:
    from server.conftest import RunningServer


@pytest.fixture
def of_client(server: RunningServer) -> Iterator[OpenFeatureClient]:
    """An OpenFeature client whose provider is OFREP at the server, with an sdk token."""
    secret = load_flags(server)
    yield _client(server.url, secret)
    api.clear_providers()


def _client(url: str, secret: str) -> OpenFeatureClient:
    domain = f"ofrep-{uuid.uuid4().hex[:8]}"
    provider = OFREPProvider(url, headers_factory=lambda: {"Authorization": f"Bearer {secret}"})
    api.set_provider(provider, domain)
    return api.get_client(domain)


def _ctx(user: str | None = None, **attributes: str) -> EvaluationContext:
    return EvaluationContext(user, dict(attributes))


class TestPythonProvider:
    """Boolean, string and object flags, overrides, segments, rollout, kill switch, errors."""

    def test_boolean_override_and_segment(self, of_client: OpenFeatureClient) -> None:
        vip = of_client.get_boolean_details("new-checkout", False, _ctx("vip-1"))
        assert (vip.value, vip.reason, vip.variant) == (True, Reason.TARGETING_MATCH, "on")
        assert vip.flag_metadata["reason"] == "override:user=vip-1"
        blocked = of_client.get_boolean_details("new-checkout", True, _ctx("blocked-1"))
        assert (blocked.value, blocked.reason) == (False, Reason.TARGETING_MATCH)
        staff = of_client.get_boolean_details("new-checkout", False, _ctx("u-9", role="admin"))
        assert staff.flag_metadata["reason"] == "segment:staff"

    def test_rollout_agrees_with_phased_client(self, of_client: OpenFeatureClient) -> None:
        sdk = Client.from_file(FLAGS_FILE, environment="prod")
        for i in range(100):
            user = f"user-{i}"
            assert of_client.get_boolean_value("new-checkout", False, _ctx(user)) == (
                sdk.is_enabled("new-checkout", user=user)
            )
            assert of_client.get_string_value("layout", "?", _ctx(user)) == sdk.variant(
                "layout", user=user
            )

    def test_object_flag(self, of_client: OpenFeatureClient) -> None:
        theme = of_client.get_object_details("theme", {}, _ctx("u-1"))
        assert theme.value == {"background": "#000000", "contrast": 2}
        assert theme.variant == "dark"

    def test_kill_switch(self, of_client: OpenFeatureClient) -> None:
        killed = of_client.get_boolean_details("killed-feature", True, _ctx("vip-1"))
        assert (killed.value, killed.reason) == (False, Reason.DISABLED)

    def test_unknown_flag_wrong_type_and_missing_key(self, of_client: OpenFeatureClient) -> None:
        unknown = of_client.get_boolean_details("nope", True, _ctx("u-1"))
        assert (unknown.value, unknown.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
        wrong = of_client.get_boolean_details("layout", True, _ctx("u-1"))
        assert (wrong.value, wrong.error_code) == (True, ErrorCode.TYPE_MISMATCH)
        missing = of_client.get_boolean_details("new-checkout", True, _ctx())
        assert (missing.value, missing.error_code) == (True, ErrorCode.TARGETING_KEY_MISSING)

    def test_bad_token_serves_defaults(self, server: RunningServer) -> None:
        load_flags(server)
        client = _client(server.url, "phd_not-a-token")
        try:
            details = client.get_boolean_details("static-on", False, _ctx("u-1"))
        finally:
            api.clear_providers()
        assert (details.value, details.error_code) == (False, ErrorCode.GENERAL)
        assert details.error_message == "unauthorized"
