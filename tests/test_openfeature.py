"""The OpenFeature provider, exercised through the OpenFeature API as an application uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.track import TrackingEventDetails

from phased.core.flagfile import parse_flagset
from phased.openfeature import PhasedProvider, openfeature_reason
from phased.sdk.client import Client
from phased.testing import MemorySink

FLAGS = """
segments:
  staff: {where: "role in [admin, pm]"}
flags:
  new-checkout:
    environments:
      prod: {rollout: 25, rules: [{segment: staff}], overrides: [{attribute: user, value: vip}]}
  killed:
    environments:
      prod: {enabled: false, rollout: 100}
  pinned:
    env_var: PINNED_FLAG
    environments:
      prod: {rollout: 0}
  layout:
    variants: {classic: 50, compact: 50}
    environments:
      prod: {rollout: 100}
  batch-size:
    variants: {"10": 0, "25": 100}
    off_variant: "10"
    environments:
      prod: {default: "25"}
  ratio:
    variants: {"0.5": 100, "1": 0}
    environments:
      prod: {default: "0.5"}
  needs-layout:
    requires: [{flag: killed}]
    environments:
      prod: {rollout: 100}
"""

PAYLOADS: dict[str, dict[str, Any]] = {
    "layout": {"classic": {"columns": 1}, "compact": {"columns": 2, "dense": True}},
}


@pytest.fixture
def of_client() -> Iterator[Any]:
    client = Client(parse_flagset(FLAGS), environment="prod", env={"PINNED_FLAG": "true"})
    api.set_provider_and_wait(PhasedProvider(client, values=PAYLOADS), "phased-test")
    yield api.get_client("phased-test")
    api.clear_providers()


def _ctx(targeting_key: str | None = None, **attrs: Any) -> EvaluationContext:
    return EvaluationContext(targeting_key, attrs)


class TestBoolean:
    """Boolean flags resolve with phased's value, a variant and a mapped reason."""

    def test_targeting_match_for_a_segment(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("new-checkout", False, _ctx("u1", role="admin"))
        assert details.value is True
        assert details.variant == "on"
        assert details.reason == Reason.TARGETING_MATCH
        assert details.flag_metadata["reason"] == "segment:staff"
        assert details.error_code is None

    def test_targeting_match_for_an_override_on_the_targeting_key(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("new-checkout", False, _ctx("vip"))
        assert (details.value, details.reason) == (True, Reason.TARGETING_MATCH)
        assert details.flag_metadata["reason"] == "override:user=vip"

    def test_split_is_sticky_on_the_targeting_key(self, of_client: Any) -> None:
        client = Client(parse_flagset(FLAGS), environment="prod")
        on = 0
        for i in range(2000):
            details = of_client.get_boolean_details("new-checkout", False, _ctx(f"user-{i}"))
            assert details.value is client.is_enabled("new-checkout", user=f"user-{i}")
            if details.value:
                on += 1
                assert details.reason == Reason.SPLIT
            else:
                assert details.reason == Reason.DEFAULT
        assert 400 < on < 600  # 25 % of 2,000

    def test_user_attribute_wins_over_targeting_key(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("new-checkout", False, _ctx("x", user="vip"))
        assert details.flag_metadata["reason"] == "override:user=vip"

    def test_no_context_gets_the_default(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("new-checkout", True)
        assert (details.value, details.reason) == (False, Reason.DEFAULT)

    def test_killed_flag_is_disabled(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("killed", True, _ctx("u1"))
        assert (details.value, details.variant, details.reason) == (False, "off", Reason.DISABLED)

    def test_unmet_prerequisite_is_disabled(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("needs-layout", True, _ctx("u1"))
        assert (details.value, details.reason) == (False, Reason.DISABLED)
        assert details.flag_metadata["reason"] == "prerequisite:killed"

    def test_env_var_is_static(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("pinned", False, _ctx("u1"))
        assert (details.value, details.reason) == (True, Reason.STATIC)

    def test_value_getter(self, of_client: Any) -> None:
        assert of_client.get_boolean_value("new-checkout", False, _ctx("u", role="pm")) is True


class TestErrors:
    """Unknown flags and wrong types return the caller's default with an error code."""

    def test_unknown_flag(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("nope", True, _ctx("u1"))
        assert details.value is True
        assert details.reason == Reason.ERROR
        assert details.error_code == ErrorCode.FLAG_NOT_FOUND
        assert "nope" in (details.error_message or "")

    def test_boolean_getter_on_multivariate_flag(self, of_client: Any) -> None:
        details = of_client.get_boolean_details("layout", True, _ctx("u1"))
        assert (details.value, details.error_code) == (True, ErrorCode.TYPE_MISMATCH)
        assert "PhasedProvider(values=" in (details.error_message or "")

    def test_string_getter_on_boolean_flag(self, of_client: Any) -> None:
        details = of_client.get_string_details("killed", "fallback", _ctx("u1"))
        assert (details.value, details.error_code) == ("fallback", ErrorCode.TYPE_MISMATCH)

    def test_integer_getter_on_non_numeric_variants(self, of_client: Any) -> None:
        details = of_client.get_integer_details("batch-size-missing", 7, _ctx("u1"))
        assert details.error_code == ErrorCode.FLAG_NOT_FOUND
        details = of_client.get_float_details("new-checkout", 1.5, _ctx("u1"))
        assert (details.value, details.error_code) == (1.5, ErrorCode.TYPE_MISMATCH)

    def test_object_without_payload(self, of_client: Any) -> None:
        details = of_client.get_object_details("new-checkout", {"a": 1}, _ctx("u1"))
        assert (details.value, details.error_code) == ({"a": 1}, ErrorCode.TYPE_MISMATCH)

    def test_a_client_that_raises_is_contained(self) -> None:
        class Broken(Client):
            def evaluate(self, flag: str, /, **context: Any) -> Any:
                raise RuntimeError("boom")

        api.set_provider_and_wait(PhasedProvider(Broken()), "phased-broken")
        try:
            details = api.get_client("phased-broken").get_boolean_details("x", True)
        finally:
            api.clear_providers()
        assert (details.value, details.error_code) == (True, ErrorCode.GENERAL)


class TestTypedFlags:
    """Strings, integers, floats and objects come from variants or the payload table."""

    def test_string_variant(self, of_client: Any) -> None:
        details = of_client.get_string_details("layout", "classic", _ctx("u1"))
        assert details.value in {"classic", "compact"}
        assert details.variant == details.value
        assert details.reason == Reason.SPLIT

    def test_integer_from_variant_name(self, of_client: Any) -> None:
        details = of_client.get_integer_details("batch-size", 1, _ctx("u1"))
        assert (details.value, details.variant, details.reason) == (25, "25", Reason.DEFAULT)

    def test_float_from_variant_name(self, of_client: Any) -> None:
        details = of_client.get_float_details("ratio", 0.0, _ctx("u1"))
        assert (details.value, details.variant) == (0.5, "0.5")

    def test_object_from_payloads(self, of_client: Any) -> None:
        client = Client(parse_flagset(FLAGS), environment="prod")
        for user in ("a", "b", "c", "d"):
            details = of_client.get_object_details("layout", {}, _ctx(user))
            assert details.value == PAYLOADS["layout"][client.variant("layout", user=user) or ""]
            assert details.error_code is None


class TestReasonMapping:
    """Every phased reason maps to one OpenFeature reason."""

    @pytest.mark.parametrize(
        ("phased", "expected"),
        [
            ("override:user=u-1", Reason.TARGETING_MATCH),
            ("segment:admins", Reason.TARGETING_MATCH),
            ("rule:role in [admin]", Reason.TARGETING_MATCH),
            ("rollout:bucket 1834/10000 < 2500", Reason.SPLIT),
            ("default", Reason.DEFAULT),
            ("killed", Reason.DISABLED),
            ("prerequisite:legacy_off", Reason.DISABLED),
            ("env_var:ENABLE_ALERTS", Reason.STATIC),
            ("unknown_flag", Reason.ERROR),
            ("error:KeyError", Reason.ERROR),
        ],
    )
    def test_mapping(self, phased: str, expected: Reason) -> None:
        assert openfeature_reason(phased) == expected


class TestLifecycle:
    """Updates of the client's flag set reach OpenFeature handlers; shutdown closes if asked."""

    def test_update_emits_configuration_changed(self) -> None:
        client = Client(parse_flagset(FLAGS), environment="prod")
        if not hasattr(client, "on_update"):
            pytest.skip("Client.on_update not available")
        seen: list[EventDetails] = []
        api.set_provider_and_wait(PhasedProvider(client), "phased-events")
        of_client = api.get_client("phased-events")
        of_client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, seen.append)
        try:
            assert of_client.get_boolean_value("killed", True) is False
            client.update(parse_flagset(FLAGS.replace("enabled: false", "enabled: true")))
            assert of_client.get_boolean_value("killed", False, _ctx("u1")) is True
        finally:
            api.clear_providers()
        assert len(seen) == 1
        assert "killed" in seen[0].flags_changed

    def test_shutdown_closes_owned_client(self) -> None:
        closed: list[bool] = []

        class Recording(Client):
            def close(self) -> None:
                closed.append(True)
                super().close()

        api.set_provider_and_wait(PhasedProvider(Recording(), close_client=True), "phased-own")
        api.clear_providers()
        assert closed == [True]


class TestTracking:
    """client.track(...) records phased outcomes, so an OpenFeature-only app feeds the gates."""

    @pytest.fixture
    def tracked(self) -> Iterator[tuple[Any, MemorySink, Client]]:
        sink = MemorySink()
        client = Client(parse_flagset(FLAGS), environment="prod", sink=sink)
        api.set_provider_and_wait(PhasedProvider(client), "phased-track")
        yield api.get_client("phased-track"), sink, client
        api.clear_providers()

    def test_outcomes_per_arm(self, tracked: tuple[Any, MemorySink, Client]) -> None:
        of, sink, client = tracked
        details = TrackingEventDetails(
            value=120.0, attributes={"error": True, "retries": 2, "cost_usd": 0.5, "tokens": 900}
        )
        of.track("new-checkout", _ctx("u-1", role="admin"), details)
        of.track("new-checkout", _ctx(), TrackingEventDetails(value=80.0))
        of.track("new-checkout", _ctx("u-2"), TrackingEventDetails(attributes={"arm": "control"}))
        client.tracker.flush(everything=True)
        candidate = sink.total("new-checkout", "candidate")
        control = sink.total("new-checkout", "control")
        assert (candidate.requests, candidate.errors, candidate.retries) == (1, 1, 2)
        assert candidate.cost_usd == pytest.approx(0.5)
        assert candidate.metrics["tokens"] == [pytest.approx(900), 1]
        assert control.requests == 2

    def test_never_raises(self, tracked: tuple[Any, MemorySink, Client]) -> None:
        of, sink, client = tracked
        of.track("no-such-flag", _ctx("u-1"))
        of.track("new-checkout", None, TrackingEventDetails(attributes={"retries": "many"}))
        client.tracker.flush(everything=True)
        assert sink.windows == {}


class TestFlagPayloads:
    """A flag's own `payloads` serve object getters when no `values` table names the flag."""

    def test_payloads_from_the_flags_file(self) -> None:
        flags = parse_flagset(
            """
flags:
  theme:
    variants: {light: 50, dark: 50}
    payloads: {light: {bg: "#fff"}, dark: {bg: "#000"}}
    environments: {prod: {default: dark}}
"""
        )
        api.set_provider_and_wait(PhasedProvider(Client(flags, environment="prod")), "payloads")
        try:
            value = api.get_client("payloads").get_object_value("theme", {}, _ctx("u-1"))
        finally:
            api.clear_providers()
        assert value == {"bg": "#000"}
