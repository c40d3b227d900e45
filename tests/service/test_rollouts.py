"""Setting rollout percentages: validated, versioned, audited, and sticky for users."""

from __future__ import annotations

import pytest

from phased.core.evaluate import CompiledFlagSet
from phased.errors import ConflictError, ValidationError
from phased.service import flags, rollouts
from phased.store.engine import Store


def _share(store: Store, n: int = 4000) -> float:
    compiled = CompiledFlagSet(flags.load_flagset(store, "prod"), "prod", env={}, clock=lambda: 0)
    return sum(compiled.is_enabled("awf_bundle", {"user": f"u{i}"}) for i in range(n)) / n


class TestSetRollout:
    """rollout.set changes one environment's percentage and records before/after."""

    def test_set(self, seeded: Store) -> None:
        result = rollouts.set_rollout(
            seeded, actor="admin", key="awf_bundle", environment="prod", percent=25
        )
        (entry,) = result.entries
        assert (entry.action, entry.actor, entry.entity) == (
            "rollout.set",
            "admin",
            "flag:awf_bundle",
        )
        assert entry.details["before"]["rollout"] == 5
        assert entry.details["after"]["rollout"] == 25
        assert 0.22 < _share(seeded) < 0.28

    def test_raising_keeps_everyone_who_had_it(self, seeded: Store) -> None:
        compiled = CompiledFlagSet(flags.load_flagset(seeded), "prod", env={}, clock=lambda: 0)
        had = {u for u in map(str, range(3000)) if compiled.is_enabled("awf_bundle", {"user": u})}
        rollouts.set_rollout(seeded, actor="a", key="awf_bundle", environment="prod", percent=50)
        compiled = CompiledFlagSet(flags.load_flagset(seeded), "prod", env={}, clock=lambda: 0)
        assert all(compiled.is_enabled("awf_bundle", {"user": u}) for u in had)

    @pytest.mark.parametrize("percent", [101, -1, 100.001, 12.345, float("nan")])
    def test_out_of_range_is_refused(self, seeded: Store, percent: float) -> None:
        before = seeded.dump()
        with pytest.raises(ValidationError) as info:
            rollouts.set_rollout(
                seeded, actor="a", key="awf_bundle", environment="prod", percent=percent
            )
        assert info.value.field == "percent"
        assert seeded.dump() == before

    def test_two_decimals_are_fine(self, seeded: Store) -> None:
        rollouts.set_rollout(seeded, actor="a", key="awf_bundle", environment="prod", percent=0.01)
        assert flags.get_flag(seeded, "awf_bundle").flag.state("prod").rollout == 0.01

    def test_stale_version_names_the_current_one(self, seeded: Store) -> None:
        current = flags.get_flag(seeded, "awf_bundle").state_versions["prod"]
        before = seeded.dump()
        with pytest.raises(ConflictError, match=f"at version {current}"):
            rollouts.set_rollout(
                seeded,
                actor="a",
                key="awf_bundle",
                environment="prod",
                percent=50,
                expected_version=current - 1,
            )
        assert seeded.dump() == before

    def test_unknown_environment(self, seeded: Store) -> None:
        with pytest.raises(ValidationError, match="unknown environment 'qa'"):
            rollouts.set_rollout(seeded, actor="a", key="awf_bundle", environment="qa", percent=5)
