"""Any refused change leaves the store exactly as it was (property)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phased.core.flagfile import parse_flagset
from phased.errors import PhasedError
from phased.service import apply, flags, overrides, rollouts, segments
from phased.store.engine import Store

Change = Callable[[Store], object]

bad_percents = (
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda p: not 0 <= p <= 100)
    | st.integers(1, 9999).map(lambda n: n + 0.001)
    | st.just(float("nan"))
)
bad_keys = st.text(min_size=0, max_size=70).filter(
    lambda k: (
        not (k[:1].isascii() and k[:1].isalnum() and k[:1].lower() == k[:1])
        or len(k) > 64
        or any(not (c.isascii() and (c.islower() or c.isdigit() or c in "_.-")) for c in k)
    )
)
bad_envs = st.text(min_size=0, max_size=10).filter(lambda e: e not in ("dev", "staging", "prod"))
past = st.datetimes(max_value=datetime(2026, 10, 31), timezones=st.just(UTC))


def changes() -> st.SearchStrategy[Change]:
    def rollout(p: float) -> Change:
        return lambda s: rollouts.set_rollout(
            s, actor="a", key="awf_bundle", environment="prod", percent=p
        )

    def create(key: str) -> Change:
        return lambda s: flags.create_flag(s, actor="a", key=key)

    def env(e: str) -> Change:
        return lambda s: flags.set_enabled(
            s, actor="a", key="awf_bundle", environment=e, enabled=False
        )

    def both(user: str, session: str) -> Change:
        return lambda s: overrides.set_override(
            s,
            actor="a",
            key="awf_bundle",
            environment="prod",
            user=user,
            session=session,
            serve=True,
        )

    def expired(when: datetime) -> Change:
        return lambda s: overrides.set_override(
            s, actor="a", key="awf_bundle", environment="prod", user="u", serve=True, expires=when
        )

    def stale(delta: int) -> Change:
        return lambda s: rollouts.set_rollout(
            s, actor="a", key="awf_bundle", environment="prod", percent=50, expected_version=delta
        )

    def unknown_segment(name: str) -> Change:
        text = f"flags:\n  awf_bundle:\n    environments:\n      prod: {{rules: [{{segment: {name}}}]}}\n"
        return lambda s: apply.apply(s, actor="a", wanted=parse_flagset(text))

    def no_actor(actor: str) -> Change:
        return lambda s: rollouts.set_rollout(
            s, actor=actor, key="awf_bundle", environment="prod", percent=1
        )

    return st.one_of(
        bad_percents.map(rollout),
        bad_keys.map(create),
        st.just(create("awf_bundle")),
        bad_envs.map(env),
        st.tuples(st.text(min_size=1), st.text(min_size=1)).map(lambda t: both(*t)),
        past.map(expired),
        st.integers(-5, 2).map(stale),  # prod's state is at version 3
        st.from_regex(r"[a-z]{1,8}", fullmatch=True)
        .filter(lambda n: n != "staff")
        .map(unknown_segment),
        st.sampled_from(["", " ", "\t"]).map(no_actor),
        st.just(lambda s: segments.delete_segment(s, actor="a", key="nope")),
        st.just(
            lambda s: overrides.clear_override(
                s, actor="a", key="awf_bundle", environment="prod", user="ghost"
            )
        ),
    )


class TestRefusedChanges:
    """Every refusal is a PhasedError and the dump before equals the dump after."""

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(change=changes())
    def test_store_unchanged(self, seeded: Store, change: Change) -> None:
        before = seeded.dump()
        try:
            change(seeded)
        except PhasedError:
            pass
        else:
            raise AssertionError("the change was accepted")
        assert seeded.dump() == before

    def test_seed_versions(self, seeded: Store) -> None:
        # The stale-version strategy above relies on this.
        assert flags.get_flag(seeded, "awf_bundle").state_versions["prod"] == 3
