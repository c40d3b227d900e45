"""Evaluation: precedence, reasons, stickiness, and the fast path agreeing with the reason path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.evaluate import CompiledFlagSet
from phased.core.flagfile import parse_flagset
from phased.core.flags import Flag, FlagSet, FlagState, Override, Rule, Segment

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def compiled(
    text: str, env: str = "prod", environ: dict[str, str] | None = None
) -> CompiledFlagSet:
    return CompiledFlagSet(parse_flagset(text), env, env=environ or {}, clock=NOW.timestamp)


BASE = """
segments:
  staff: {where: "role in [admin, pm]"}
  beta: {where: "labels contains beta-test"}
flags:
  legacy_off: {}
  awf_bundle:
    env_var: AWF_BUNDLE_ON
    environments:
      prod:
        rollout: 25
        rules: [{segment: staff}]
        overrides:
          - {attribute: user, value: user-123, serve: true}
          - {attribute: session, value: session-456, serve: false}
          - {attribute: user, value: gone, serve: true, expires: 2026-01-01T00:00:00Z}
  decommission:
    requires: [{flag: legacy_off}]
    environments:
      prod: {rollout: 100}
  checkout:
    variants: {control: 50, treatment: 50}
    environments:
      prod: {rollout: 100}
"""


class TestPrecedence:
    """Overrides beat rules, rules beat the rollout, the rollout beats the default."""

    def test_user_override_wins_over_everything_but_env_and_kill(self) -> None:
        c = compiled(BASE)
        assert c.evaluate("awf_bundle", {"user": "user-123", "role": "member"}).reason == (
            "override:user=user-123"
        )

    def test_user_override_checked_before_session_override(self) -> None:
        c = compiled(BASE)
        got = c.evaluate("awf_bundle", {"user": "user-123", "session": "session-456"})
        assert (got.value, got.reason) == (True, "override:user=user-123")

    def test_session_override_pins_off_even_for_staff(self) -> None:
        c = compiled(BASE)
        got = c.evaluate("awf_bundle", {"session": "session-456", "role": "admin"})
        assert (got.value, got.reason) == (False, "override:session=session-456")

    def test_expired_override_stops_matching(self) -> None:
        c = compiled(BASE)
        assert c.evaluate("awf_bundle", {"user": "gone"}).reason != "override:user=gone"

    def test_segment_rule(self) -> None:
        c = compiled(BASE)
        assert c.evaluate("awf_bundle", {"user": "x", "role": "pm"}).reason == "segment:staff"

    def test_rollout_reason_shows_bucket(self) -> None:
        c = compiled(BASE)
        reasons = {c.evaluate("awf_bundle", {"user": f"u{i}"}).reason for i in range(200)}
        assert "default" in reasons
        assert any(r.startswith("rollout:bucket ") and r.endswith("< 2500") for r in reasons)

    def test_no_user_or_session_gets_the_default_never_a_random_value(self) -> None:
        c = compiled(BASE)
        got = c.evaluate("awf_bundle", {"role": "member"})
        assert (got.value, got.reason) == (False, "default")

    def test_session_is_the_fallback_sticky_key(self) -> None:
        c = compiled(BASE)
        on = [
            s for s in (f"s{i}" for i in range(400)) if c.is_enabled("awf_bundle", {"session": s})
        ]
        assert 60 < len(on) < 140  # ≈ 25 % of 400
        assert all(c.is_enabled("awf_bundle", {"session": s}) for s in on)


class TestKillSwitchAndEnvVar:
    """The kill switch serves the off value; an env var set in the process wins."""

    def test_killed(self) -> None:
        text = BASE.replace("rollout: 25", "rollout: 25\n        enabled: false")
        got = compiled(text).evaluate("awf_bundle", {"user": "user-123", "role": "admin"})
        assert (got.value, got.reason) == (False, "killed")

    @pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("false", False)])
    def test_env_var_wins(self, raw: str, value: bool) -> None:
        got = compiled(BASE, environ={"AWF_BUNDLE_ON": raw}).evaluate(
            "awf_bundle", {"role": "admin"}
        )
        assert (got.value, got.reason) == (value, "env_var:AWF_BUNDLE_ON")

    def test_unreadable_env_var_is_ignored(self) -> None:
        got = compiled(BASE, environ={"AWF_BUNDLE_ON": "maybe"}).evaluate(
            "awf_bundle", {"role": "pm"}
        )
        assert got.reason == "segment:staff"


class TestPrerequisites:
    """A flag whose prerequisite is off serves its off value."""

    def test_prerequisite_off(self) -> None:
        got = compiled(BASE).evaluate("decommission", {"user": "u"})
        assert (got.value, got.reason) == (False, "prerequisite:legacy_off")

    def test_prerequisite_on(self) -> None:
        text = BASE.replace("legacy_off: {}", "legacy_off: {environments: {prod: {default: true}}}")
        got = compiled(text).evaluate("decommission", {"user": "u"})
        assert got.value is True


class TestMultivariate:
    """Variants are split by weight, sticky per user."""

    def test_split_is_about_even_and_sticky(self) -> None:
        c = compiled(BASE)
        first = [c.evaluate("checkout", {"user": f"u{i}"}).value for i in range(4_000)]
        assert abs(first.count("treatment") / 4_000 - 0.5) < 0.04
        again = [c.evaluate("checkout", {"user": f"u{i}"}).value for i in range(4_000)]
        assert first == again

    def test_is_enabled_means_not_the_off_variant(self) -> None:
        c = compiled(BASE)
        for i in range(200):
            ctx = {"user": f"u{i}"}
            assert c.is_enabled("checkout", ctx) == (c.evaluate("checkout", ctx).value != "control")


class TestUnknownAndBadContexts:
    """An unknown flag is off; odd context values never raise."""

    def test_unknown_flag(self) -> None:
        got = compiled(BASE).evaluate("nope", {})
        assert (got.value, got.reason) == (False, "unknown_flag")
        assert compiled(BASE).is_enabled("nope", {}) is False

    @given(
        st.dictionaries(
            st.sampled_from(["user", "session", "role", "labels", "age"]),
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=5),
                st.lists(st.text(max_size=4), max_size=3),
                st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
            ),
        )
    )
    def test_never_raises(self, ctx: dict[str, Any]) -> None:
        c = compiled(BASE)
        for key in ("awf_bundle", "decommission", "checkout"):
            c.evaluate(key, ctx)
            c.is_enabled(key, ctx)


# -- the fast path and the reason path agree on any flag and context ---------------

roles = st.sampled_from(["admin", "pm", "developer", "member"])
rules = st.lists(
    st.tuples(
        st.sampled_from(["staff", "beta", None]),
        st.sampled_from([None, "age gte 30", "role eq developer", "plan not_in [free]"]),
        st.sampled_from([None, True, False]),
    )
    .filter(lambda t: t[0] is not None or t[1] is not None)
    .map(lambda t: Rule(segment=t[0], where=t[1], serve=t[2])),  # type: ignore[arg-type]
    max_size=3,
)
overrides = st.lists(
    st.builds(
        Override,
        attribute=st.sampled_from(["user", "session", "org"]),
        value=st.sampled_from(["u1", "u2", "s1", "acme"]),
        serve=st.booleans(),
        expires=st.sampled_from([None, NOW - timedelta(days=1), NOW + timedelta(days=1)]),
    ),
    max_size=4,
)
states = st.builds(
    FlagState,
    enabled=st.booleans(),
    default=st.sampled_from([None, True, False]),
    rollout=st.integers(0, 10_000).map(lambda b: b / 100),
    rules=rules,
    overrides=overrides,
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "user": st.sampled_from(["u1", "u2", "u3", "u4", 7]),
        "session": st.sampled_from(["s1", "s2"]),
        "role": roles,
        "labels": st.lists(st.sampled_from(["beta-test", "x"]), max_size=2),
        "age": st.integers(0, 90),
        "org": st.sampled_from(["acme", "other"]),
        "plan": st.sampled_from(["free", "pro"]),
    },
)


class TestFastPathAgrees:
    """``is_enabled``/``value`` always equals ``evaluate().value`` (they share semantics)."""

    @settings(max_examples=300, deadline=None)
    @given(state=states, stickiness=st.sampled_from(["user", "session", "org"]), ctx=contexts)
    def test_agree(self, state: FlagState, stickiness: str, ctx: dict[str, Any]) -> None:
        fs = FlagSet(
            segments={
                "staff": Segment(key="staff", where="role in [admin, pm]"),  # type: ignore[arg-type]
                "beta": Segment(key="beta", where="labels contains beta-test"),  # type: ignore[arg-type]
            },
            flags={"f": Flag(key="f", stickiness=stickiness, environments={"prod": state})},
        )
        c = CompiledFlagSet(fs, "prod", env={}, clock=NOW.timestamp)
        detail = c.evaluate("f", ctx)
        assert c.get("f").value(ctx) == detail.value  # type: ignore[union-attr]
        assert c.is_enabled("f", ctx) == (detail.value is True)

    @settings(max_examples=200, deadline=None)
    @given(
        state=states.map(
            lambda s: s.with_changes(
                default={None: None, True: "b", False: "a"}[s.default],  # type: ignore[index]
                rules=[
                    r.model_copy(update={"serve": {None: None, True: "b", False: "a"}[r.serve]})
                    for r in s.rules
                ],  # type: ignore[index]
                overrides=[
                    o.model_copy(update={"serve": "b" if o.serve else "c"}) for o in s.overrides
                ],
            )
        ),
        ctx=contexts,
    )
    def test_agree_multivariate(self, state: FlagState, ctx: dict[str, Any]) -> None:
        fs = FlagSet(
            segments={
                "staff": Segment(key="staff", where="role in [admin, pm]"),  # type: ignore[arg-type]
                "beta": Segment(key="beta", where="labels contains beta-test"),  # type: ignore[arg-type]
            },
            flags={
                "f": Flag(
                    key="f", variants={"a": 20, "b": 30, "c": 50}, environments={"prod": state}
                )
            },
        )
        fs = FlagSet.model_validate(fs.model_dump())
        c = CompiledFlagSet(fs, "prod", env={}, clock=NOW.timestamp)
        detail = c.evaluate("f", ctx)
        assert c.get("f").value(ctx) == detail.value  # type: ignore[union-attr]
        assert c.is_enabled("f", ctx) == (detail.value != "a")
