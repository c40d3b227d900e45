"""The pure OFREP mapping: request parsing, reasons, payloads, missing targeting keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core import ofrep
from phased.core.evaluate import CompiledFlagSet
from phased.core.flagfile import parse_flagset
from phased.core.flags import Flag

FLAGS = parse_flagset(
    """
flags:
  split:
    variants: {a: 50, b: 50}
    environments:
      prod:
        rules: [{where: "role in [beta]"}]
  rollout:
    stickiness: org
    environments: {prod: {rollout: 50}}
  typed:
    payloads: {on: {n: 1}, off: [0]}
    environments: {prod: {default: true}}
"""
)
COMPILED = CompiledFlagSet(FLAGS, "prod", clock=lambda: 0.0)


class TestReason:
    """phased reasons map onto OpenFeature's."""

    @pytest.mark.parametrize(
        ("phased", "openfeature"),
        [
            ("override:user=u-1", "TARGETING_MATCH"),
            ("segment:staff", "TARGETING_MATCH"),
            ("rule:role in [pm]", "TARGETING_MATCH"),
            ("rollout:bucket 1/10000 < 2500", "SPLIT"),
            ("default", "DEFAULT"),
            ("killed", "DISABLED"),
            ("prerequisite:other", "DISABLED"),
            ("env_var:X", "STATIC"),
            ("unknown_flag", "ERROR"),
        ],
    )
    def test_mapping(self, phased: str, openfeature: str) -> None:
        assert ofrep.openfeature_reason(phased) == openfeature


class TestParse:
    """Bodies become phased contexts; targetingKey becomes user."""

    def test_targeting_key_is_user(self) -> None:
        body = b'{"context": {"targetingKey": "u-1", "role": "pm"}}'
        assert ofrep.parse_request(body) == {"user": "u-1", "role": "pm"}

    def test_an_explicit_user_wins(self) -> None:
        body = b'{"context": {"targetingKey": "u-1", "user": "u-2"}}'
        assert ofrep.parse_request(body) == {"user": "u-2"}

    def test_missing_context_is_empty(self) -> None:
        assert ofrep.parse_request(b"{}") == {}

    @given(st.binary(max_size=64))
    def test_any_bytes_parse_or_are_refused(self, raw: bytes) -> None:
        result = ofrep.parse_request(raw)
        assert isinstance(result, dict) or result.code in ("PARSE_ERROR", "INVALID_CONTEXT")


class TestEvaluate:
    """Values, payloads and TARGETING_KEY_MISSING where a split needs a unit."""

    def test_payload_replaces_the_value(self) -> None:
        assert ofrep.evaluate(COMPILED, "typed", {}).body["value"] == {"n": 1}

    def test_split_rule_without_unit(self) -> None:
        result = ofrep.evaluate(COMPILED, "split", {"role": "beta"})
        assert (result.status, result.body["errorCode"]) == (400, "TARGETING_KEY_MISSING")
        ok = ofrep.evaluate(COMPILED, "split", {"role": "beta", "user": "u"}).body
        assert ok["reason"] == "TARGETING_MATCH"
        assert ok["value"] in ("a", "b")

    def test_rollout_names_its_stickiness(self) -> None:
        result = ofrep.evaluate(COMPILED, "rollout", {"user": "u-1"})
        assert "sticky on 'org'" in result.body["errorDetails"]
        assert ofrep.evaluate(COMPILED, "rollout", {"org": "acme"}).status == 200

    def test_outside_the_split_rule_no_unit_is_needed(self) -> None:
        assert ofrep.evaluate(COMPILED, "split", {}).body["reason"] == "DEFAULT"

    @given(
        st.dictionaries(
            st.sampled_from(["user", "role", "org", "session"]),
            st.none() | st.integers() | st.text(max_size=4) | st.lists(st.integers(), max_size=2),
        )
    )
    def test_never_raises_and_agrees_with_the_sdk(self, ctx: dict[str, Any]) -> None:
        for key in ("split", "rollout", "typed", "nope"):
            result = ofrep.evaluate(COMPILED, key, ctx)
            json.dumps(result.body)
            if not result.failed and key != "typed":
                sdk = COMPILED.evaluate(key, ctx)
                assert (result.body["value"], result.body["variant"]) == (sdk.value, sdk.variant)


class TestPayloadValidation:
    """payloads keys must be the flag's variants."""

    def test_unknown_variant(self) -> None:
        with pytest.raises(ValueError, match=r"payloads\.blue: not a variant of this flag"):
            Flag(key="x", variants={"a": 50, "b": 50}, payloads={"blue": 1})
