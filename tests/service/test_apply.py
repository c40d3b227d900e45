"""Declarative apply: the store ends up holding exactly the file, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phased.core.flagfile import dump_flagset, parse_flagset
from phased.core.flags import Flag, FlagSet, FlagState, Override, Prerequisite, Rule, Segment
from phased.errors import ConflictError, ValidationError
from phased.service import apply, events, flags, rollouts
from phased.store.audit import AuditEntry
from phased.store.engine import Store

EXAMPLE = Path(__file__).parents[2] / "examples" / "flags.yaml"

FILE = """
segments:
  staff: {where: 'role in [admin, pm]'}
flags:
  awf_bundle:
    env_var: AWF_BUNDLE_ON
    environments:
      dev: {default: true}
      prod:
        rollout: 25
        rules: [{segment: staff}]
        overrides:
          - {attribute: user, value: user-123}
  legacy_off:
    description: legacy turn retired
  emergency:
    requires: [{flag: legacy_off}]
"""


class TestApply:
    """The diff is shown, written at once, and audited per entity."""

    def test_first_apply_creates_everything(self, store: Store) -> None:
        outcome = apply.apply(
            store, actor="gitops", wanted=parse_flagset(FILE), source="flags.yaml"
        )
        assert outcome.applied
        assert [c.entity for c in outcome.changes] == [
            "segment:staff",
            "flag:awf_bundle",
            "flag:legacy_off",
            "flag:emergency",
        ]
        assert {e.action for e in outcome.entries} == {"flags.apply"}
        assert all(e.details["source"] == "flags.yaml" for e in outcome.entries)
        assert "+ flag awf_bundle (created)" in outcome.lines()
        assert store.revision() == 1
        stored = flags.load_flagset(store)
        assert stored == apply.desired_state(FlagSet(), parse_flagset(FILE), None)
        # What the file declares is stored as is; where it declares nothing, killed.
        assert stored.flags["awf_bundle"].state("prod") == parse_flagset(FILE).flags[
            "awf_bundle"
        ].state("prod")
        assert stored.flags["awf_bundle"].state("staging") == FlagState(enabled=False)
        assert {s.enabled for s in stored.flags["legacy_off"].environments.values()} == {False}

    def test_update_diff_names_each_field(self, store: Store) -> None:
        apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        rollouts.set_rollout(store, actor="a", key="awf_bundle", environment="prod", percent=50)
        outcome = apply.plan(store, parse_flagset(FILE))
        assert not outcome.applied
        assert outcome.lines() == [
            "~ flag awf_bundle: environments.prod.rollout: 50 -> 25",
        ]

    def test_dry_run_writes_nothing(self, store: Store) -> None:
        before = store.dump()
        outcome = apply.apply(store, actor="gitops", wanted=parse_flagset(FILE), dry_run=True)
        assert len(outcome.changes) == 4
        assert outcome.entries == ()
        assert store.dump() == before

    def test_flags_missing_from_the_file_are_deleted(self, store: Store) -> None:
        apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        flags.create_flag(store, actor="a", key="stray")
        outcome = apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        assert [(c.entity, c.op) for c in outcome.changes] == [("flag:stray", "delete")]

    def test_one_environment_only(self, store: Store) -> None:
        apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        edited = FILE.replace("dev: {default: true}", "dev: {default: false}").replace(
            "rollout: 25", "rollout: 40"
        )
        outcome = apply.apply(
            store, actor="gitops", wanted=parse_flagset(edited), environment="prod"
        )
        assert outcome.lines() == ["~ flag awf_bundle: environments.prod.rollout: 25 -> 40"]
        assert outcome.entries[0].details["environment"] == "prod"
        assert flags.get_flag(store, "awf_bundle").flag.state("dev").default is True

    def test_unknown_environment_in_the_file(self, store: Store) -> None:
        wanted = parse_flagset("environments: [dev, qa]\nflags: {x: {}}")
        with pytest.raises(ValidationError, match="qa") as info:
            apply.apply(store, actor="gitops", wanted=wanted)
        assert info.value.field == "environments"
        assert store.dump()["flags"] == []

    def test_apply_is_all_or_nothing(self, store: Store) -> None:
        before = store.dump()
        written: list[str] = []

        def fail_on_third(_conn: object, entry: AuditEntry) -> None:
            written.append(entry.entity)
            if len(written) == 3:
                raise RuntimeError("disk full")

        unsubscribe = events.subscribe(fail_on_third)
        try:
            with pytest.raises(RuntimeError, match="disk full"):
                apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        finally:
            unsubscribe()
        assert len(written) == 3  # two entities were written before the failure
        assert store.dump() == before

    def test_delete_of_a_prerequisite_is_refused(self, store: Store) -> None:
        apply.apply(store, actor="gitops", wanted=parse_flagset(FILE))
        before = store.dump()
        with pytest.raises(ConflictError, match="prerequisite of emergency"):
            flags.delete_flag(store, actor="a", key="legacy_off")
        assert store.dump() == before

    @pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/flags.yaml not written yet")
    def test_the_example_file_applies_and_round_trips(self, store: Store) -> None:
        wanted = parse_flagset(EXAMPLE.read_text(), str(EXAMPLE))
        apply.apply(store, actor="demo", wanted=wanted)
        assert apply.plan(store, wanted).changes == ()
        exported = parse_flagset(dump_flagset(flags.load_flagset(store)))
        assert apply.plan(store, exported).changes == ()


# -- properties --------------------------------------------------------------------

ENVIRONMENTS = ("dev", "staging", "prod")
keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
expressions = st.sampled_from(
    [
        "role in [admin, pm]",
        "labels contains beta-test",
        "plan eq pro",
        "age gte 18",
        "app_version semver_gte 2.4.0",
        "email ends_with @acme.com",
    ]
)
percents = st.integers(0, 10_000).map(lambda n: n / 100)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@st.composite
def flagsets(draw: st.DrawFn) -> FlagSet:
    segment_keys = draw(st.lists(keys, max_size=3, unique=True))
    segs = {k: Segment(key=k, where=draw(expressions)) for k in segment_keys}
    flag_keys = draw(st.lists(keys, min_size=0, max_size=4, unique=True))
    out: dict[str, Flag] = {}
    for i, key in enumerate(flag_keys):
        variants = draw(st.sampled_from([None, {"control": 50, "wide": 50}]))
        values: list[bool | str] = [True, False] if variants is None else list(variants)
        states = {}
        for env in draw(st.lists(st.sampled_from(ENVIRONMENTS), unique=True)):
            rules = []
            for _ in range(draw(st.integers(0, 2))):
                if segs and draw(st.booleans()):
                    rules.append(Rule(segment=draw(st.sampled_from(sorted(segs)))))
                else:
                    rules.append(Rule(where=draw(expressions), serve=draw(st.sampled_from(values))))
            pins = [
                Override(
                    attribute=attribute,
                    value=value,
                    serve=draw(st.sampled_from(values)),
                    expires=draw(st.none() | moments),
                )
                for attribute, value in draw(
                    st.lists(
                        st.tuples(st.sampled_from(["user", "session", "org"]), keys),
                        max_size=3,
                        unique=True,
                    )
                )
            ]
            states[env] = FlagState(
                enabled=draw(st.booleans()),
                default=draw(st.none() | st.sampled_from(values)),
                rollout=draw(percents),
                rules=tuple(rules),
                overrides=tuple(pins),
            )
        requires = (
            tuple(
                Prerequisite(flag=k)
                for k in draw(st.lists(st.sampled_from(flag_keys[:i]), unique=True))
            )
            if i
            else ()
        )
        out[key] = Flag(
            key=key,
            description=draw(st.sampled_from(["", "a flag", "ünïcode ✅"])),
            tags=tuple(draw(st.lists(keys, max_size=2))),
            variants=variants,
            env_var=draw(st.none() | st.just(f"FLAG_{i}")),
            requires=requires,
            environments=states,
        )
    return FlagSet(environments=ENVIRONMENTS, segments=segs, flags=out)


PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class TestApplyProperties:
    """apply(export(store)) is a no-op, and the store holds exactly what was applied."""

    @PROPERTY
    @given(wanted=flagsets())
    def test_round_trip(self, store: Store, wanted: FlagSet) -> None:
        apply.apply(store, actor="prop", wanted=wanted)
        assert flags.load_flagset(store) == apply.desired_state(FlagSet(), wanted, None)
        before = store.dump()
        exported = parse_flagset(dump_flagset(flags.load_flagset(store)))
        outcome = apply.apply(store, actor="prop", wanted=exported)
        assert outcome.changes == ()
        assert store.dump() == before

    @PROPERTY
    @given(wanted=flagsets(), env=st.sampled_from(ENVIRONMENTS))
    def test_one_environment_round_trip(self, store: Store, wanted: FlagSet, env: str) -> None:
        """`flags export --env E` then `flags apply` changes nothing in any environment."""
        apply.apply(store, actor="prop", wanted=wanted)
        before = store.dump()
        exported = parse_flagset(dump_flagset(flags.load_flagset(store), environment=env))
        assert apply.plan(store, exported).changes == ()
        outcome = apply.apply(store, actor="prop", wanted=exported)
        assert outcome.changes == ()
        assert store.dump() == before

    @PROPERTY
    @given(before=flagsets(), after=flagsets())
    def test_dry_run_lists_what_apply_writes(
        self, store: Store, before: FlagSet, after: FlagSet
    ) -> None:
        """The dry run's changes are exactly the applied ones, and each lists at least a line."""
        apply.apply(store, actor="prop", wanted=before)
        dry = apply.plan(store, after)
        done = apply.apply(store, actor="prop", wanted=after)
        assert dry.lines() == done.lines()
        assert all(change.lines() for change in dry.changes)
        assert len(done.entries) == len(done.changes)
