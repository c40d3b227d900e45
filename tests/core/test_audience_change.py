"""The audience preview: who keeps, gains and loses a flag when its state changes (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.audience_change import audience_change, flag_changes
from phased.core.evaluate import CompiledFlagSet
from phased.core.flags import Flag, FlagSet, FlagState, Override, Rule, Segment
from phased.core.plans import parse_plan
from phased.core.plans.audience import stage_flag_state
from phased.core.plans.preview import preview_plan

FLAG = Flag(key="awf_bundle")
MULTI = Flag(key="look", variants={"narrow": 50, "wide": 50})


class TestAudienceChange:
    """Each kind of change is named as a keep, a gain or a loss."""

    def test_percentage_up_and_down(self) -> None:
        """25 -> 50 keeps 25 % and gains 25 %; 25 -> 5 loses 20 %."""
        up = audience_change(FLAG, "prod", FlagState(rollout=25), FlagState(rollout=50))
        assert up.keeps == ("25 % of users",)
        assert up.gains == ("25 % more of users (25 -> 50 %)",)
        assert not up.shrinks
        down = audience_change(FLAG, "prod", FlagState(rollout=25), FlagState(rollout=5))
        assert down.loses == ("20 % of users (25 -> 5 %)",)
        assert down.share_before == 25
        assert down.share_after == 5

    def test_rules_and_overrides(self) -> None:
        """A rule removed is a loss; an off-override added is a loss; an on-override a gain."""
        before = FlagState(rules=(Rule(segment="admins"), Rule(segment="pms")))
        after = FlagState(
            rules=(Rule(segment="admins"),),
            overrides=(
                Override(attribute="user", value="u-1"),
                Override(attribute="session", value="s-9", serve=False),
            ),
        )
        change = audience_change(FLAG, "prod", before, after)
        assert change.keeps == ("segment admins",)
        assert change.gains == ("override user=u-1",)
        assert change.loses == ("segment pms", "override session=s-9 (off)")

    def test_kill_switch(self) -> None:
        """Engaging it loses everyone who had it; releasing it gains them."""
        live = FlagState(rollout=25, rules=(Rule(segment="admins"),))
        killed = live.with_changes(enabled=False)
        off = audience_change(FLAG, "prod", live, killed)
        assert off.loses[0] == "everyone who had it (kill switch engaged)"
        assert "segment admins" in off.loses
        on = audience_change(FLAG, "prod", killed, live)
        assert not on.loses
        assert "segment admins" in on.gains

    def test_default_on_is_everyone(self) -> None:
        """An on default reaches 100 %."""
        change = audience_change(FLAG, "dev", FlagState(), FlagState(default=True))
        assert change.share_after == 100
        assert change.gains[0] == "everyone else (default on)"

    def test_variant_change_is_a_loss(self) -> None:
        """Admins served `wide` then the weighted split lose `wide` (first match wins)."""
        before = FlagState(rules=(Rule(segment="admins", serve="wide"),))
        after = FlagState(rules=(Rule(segment="admins"), Rule(segment="admins", serve="wide")))
        change = audience_change(MULTI, "prod", before, after)
        assert change.loses == ("segment admins → wide",)

    def test_flag_deleted(self) -> None:
        """Deleting a flag: each environment it served loses."""
        flag = Flag(key="x", environments={"prod": FlagState(rollout=10)})
        changes = flag_changes(flag, None, ("dev", "prod"))
        assert [c.environment for c in changes] == ["prod"]
        assert changes[0].shrinks


PLAN = """\
flag: ux_updates
environment: prod
stages:
  - {name: admins, audience: {segments: [admins]}}
  - {name: five, audience: 5}
  - {name: all, audience: 100}
"""


class TestPlanPreview:
    """A plan starts from today's audience and only widens it."""

    def test_keeps_rules_and_percentage(self) -> None:
        """prod at 25 % with admins+pms: the first stage keeps both and the 25 %."""
        flag = Flag(
            key="ux_updates",
            environments={
                "prod": FlagState(rollout=25, rules=(Rule(segment="admins"), Rule(segment="pms")))
            },
        )
        preview = preview_plan(parse_plan(PLAN), flag)
        assert len(preview) == 1
        assert not preview[0].change.loses
        assert set(preview[0].change.keeps) == {"segment admins", "segment pms", "25 % of users"}
        exact = preview_plan(parse_plan(PLAN), flag, allow_shrink=True)
        assert exact[0].change.loses == ("25 % of users (25 -> 0 %)",)


SEGMENTS = {"admins": Segment(key="admins", where="role in [admin]")}
rules = st.lists(
    st.builds(
        Rule,
        segment=st.just("admins"),
        serve=st.sampled_from([None, True, False]),
    ),
    max_size=2,
)
states = st.builds(
    FlagState,
    enabled=st.booleans(),
    default=st.sampled_from([None, True, False]),
    rollout=st.integers(0, 100).map(float),
    rules=rules.map(tuple),
    overrides=st.lists(
        st.builds(
            Override,
            attribute=st.just("user"),
            value=st.sampled_from(["u1", "u2", "u3"]),
            serve=st.booleans(),
        ),
        max_size=2,
        unique_by=lambda o: o.value,
    ).map(tuple),
)
plans = st.sampled_from(
    [
        "flag: f\nenvironment: prod\nstages:\n  - {name: a, audience: 5}\n  - {name: b, audience: 50}\n",
        "flag: f\nenvironment: prod\nstages:\n  - {name: a, audience: {segments: [admins]}}\n"
        "  - {name: b, audience: 100}\n",
        "flag: f\nenvironment: prod\nstages:\n  - {name: a, audience: 0}\n"
        "  - {name: b, audience: {percent: 10, segments: [admins]}}\n",
    ]
)


def _now() -> float:
    return 0.0


CONTEXTS = [{"user": f"u{i}", "role": role} for i in range(1, 60) for role in ("admin", "viewer")]


class TestNoShrinkProperty:
    """No stage of a plan takes a boolean flag away from a context that had it at the start."""

    @settings(max_examples=150, deadline=None)
    @given(state=states, text=plans, stage=st.integers(0, 1))
    def test_every_stage_keeps_everyone(self, state: FlagState, text: str, stage: int) -> None:
        """Evaluated for real: whoever got the flag before the plan gets it at every stage."""
        plan = parse_plan(text)
        flag = Flag(key="f", environments={"prod": state})
        after = stage_flag_state(plan, stage, state, state)
        before_set = CompiledFlagSet(
            FlagSet(segments=SEGMENTS, flags={"f": flag}), "prod", clock=_now
        )
        after_flag = flag.with_state("prod", after)
        after_set = CompiledFlagSet(
            FlagSet(segments=SEGMENTS, flags={"f": after_flag}), "prod", clock=_now
        )
        for ctx in CONTEXTS:
            if before_set.is_enabled("f", ctx):
                assert after_set.is_enabled("f", ctx), (ctx, state, after)
        if stage == 0:
            assert not preview_plan(plan, flag)[0].change.shrinks


class TestRender:
    """`plan render` says whether the plan keeps today's audience."""

    def test_kept_and_may_shrink(self) -> None:
        """The default keeps it; start.allow_shrink is spelled out for the signer."""
        from phased.core.plans.render import render_markdown

        assert "kept: the plan starts from who has the flag today" in render_markdown(
            parse_plan(PLAN)
        )
        shrinking = parse_plan(PLAN + "start: {allow_shrink: true}\n")
        assert "**may shrink**" in render_markdown(shrinking)

    def test_schema_has_start(self) -> None:
        """The JSON schema documents start.allow_shrink."""
        from phased.core.plans import plan_schema

        schema = plan_schema()
        assert "start" in schema["properties"]
        assert "allow_shrink" in schema["$defs"]["Start"]["properties"]
