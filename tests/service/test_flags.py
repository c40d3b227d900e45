"""Creating, switching, defaulting and deleting flags through the service layer."""

from __future__ import annotations

import pytest

from phased.core.evaluate import CompiledFlagSet
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import flags
from phased.store.engine import Store


def _eval(store: Store, key: str, env: str, **ctx: object) -> tuple[object, str]:
    compiled = CompiledFlagSet(flags.load_flagset(store, env), env, env={}, clock=lambda: 0.0)
    result = compiled.evaluate(key, ctx)
    return result.value, result.reason


class TestCreate:
    """A new flag exists in every environment, off, with its creation on record."""

    def test_created_off_everywhere(self, store: Store) -> None:
        result = flags.create_flag(
            store, actor="alice", key="ux_updates", description="UX agent", owner="pm-team"
        )
        assert [e.action for e in result.entries] == ["flag.create"]
        assert result.entries[0].entity == "flag:ux_updates"
        assert result.entries[0].details["after"]["description"] == "UX agent"
        assert result.revision == store.revision() == 1
        stored = flags.get_flag(store, "ux_updates")
        assert stored.version == 1
        assert all(not stored.flag.state(env).enabled for env in store.environments)
        assert _eval(store, "ux_updates", "prod", user="u1") == (False, "killed")

    def test_multivariate(self, store: Store) -> None:
        variants = flags.parse_variants("control=50,compact=50")
        flags.create_flag(store, actor="alice", key="layout", variants=variants)
        assert flags.get_flag(store, "layout").flag.variants == {"control": 50, "compact": 50}

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"key": "Bad Key"}, "key"),
            ({"key": "-x"}, "key"),
            ({"key": "x" * 65}, "key"),
            ({"key": "ok", "variants": {"a": 60, "b": 50}}, "variants"),
            ({"key": "ok", "env_var": "NOT-A-VAR"}, "env_var"),
        ],
    )
    def test_invalid_input_is_refused_and_nothing_is_written(
        self, store: Store, kwargs: dict[str, object], field: str
    ) -> None:
        before = store.dump()
        with pytest.raises(ValidationError) as info:
            flags.create_flag(store, actor="alice", **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
        assert store.dump() == before

    def test_unreadable_variants(self) -> None:
        with pytest.raises(ValidationError, match="NAME=WEIGHT"):
            flags.parse_variants("a:50,b:50")

    def test_duplicate_key(self, seeded: Store) -> None:
        before = seeded.dump()
        with pytest.raises(ConflictError, match="exists already"):
            flags.create_flag(seeded, actor="alice", key="awf_bundle")
        assert seeded.dump() == before

    @pytest.mark.parametrize("actor", [None, "", "   "])
    def test_actor_is_required(self, store: Store, actor: str | None) -> None:
        with pytest.raises(ValidationError) as info:
            flags.create_flag(store, actor=actor, key="x")
        assert info.value.field == "actor"
        assert store.dump()["flags"] == []


class TestEnableDisable:
    """The kill switch per environment; prod and dev are separate rows."""

    def test_enable_then_disable(self, seeded: Store) -> None:
        result = flags.set_enabled(
            seeded, actor="bob", key="awf_bundle", environment="dev", enabled=True
        )
        (entry,) = result.entries
        assert (entry.action, entry.details["environment"]) == ("flag.enable", "dev")
        # the audit entry spells the whole state, defaults included
        assert entry.details["before"]["enabled"] is False
        assert entry.details["after"] == {**entry.details["before"], "enabled": True}
        result = flags.set_enabled(
            seeded, actor="bob", key="awf_bundle", environment="prod", enabled=False
        )
        assert result.entries[0].action == "flag.disable"
        assert _eval(seeded, "awf_bundle", "prod", user="u1") == (False, "killed")

    def test_no_op_writes_nothing(self, seeded: Store) -> None:
        before = seeded.dump()
        result = flags.set_enabled(
            seeded, actor="bob", key="awf_bundle", environment="prod", enabled=True
        )
        assert not result.changed
        assert seeded.dump() == before

    def test_environments_have_their_own_versions(self, seeded: Store) -> None:
        prod = flags.get_flag(seeded, "awf_bundle").state_versions["prod"]
        flags.set_enabled(seeded, actor="bob", key="awf_bundle", environment="dev", enabled=True)
        # A prod write made against the prod version read before the dev edit still lands.
        flags.set_enabled(
            seeded,
            actor="bob",
            key="awf_bundle",
            environment="prod",
            enabled=False,
            expected_version=prod,
        )

    def test_unknown_flag_and_environment(self, seeded: Store) -> None:
        with pytest.raises(NotFoundError, match="flag create nope"):
            flags.set_enabled(seeded, actor="a", key="nope", environment="prod", enabled=True)
        with pytest.raises(ValidationError, match="dev, staging, prod") as info:
            flags.set_enabled(seeded, actor="a", key="awf_bundle", environment="qa", enabled=True)
        assert info.value.field == "env"


class TestDefault:
    """The value contexts nobody targeted get."""

    def test_set_default(self, seeded: Store) -> None:
        flags.set_default(seeded, actor="a", key="awf_bundle", environment="prod", value="on")
        assert _eval(seeded, "awf_bundle", "prod", role="x") == (True, "default")

    def test_value_must_fit_the_flag(self, seeded: Store) -> None:
        with pytest.raises(ValidationError, match="on/off"):
            flags.set_default(seeded, actor="a", key="awf_bundle", environment="prod", value="x")


class TestDelete:
    """Deleting removes every environment's state; prerequisites protect their flag."""

    def test_delete(self, seeded: Store) -> None:
        result = flags.delete_flag(seeded, actor="carol", key="awf_bundle")
        assert result.entries[0].action == "flag.delete"
        assert result.entries[0].details["after"] is None
        assert seeded.dump()["flag_states"] == []
        with pytest.raises(NotFoundError):
            flags.get_flag(seeded, "awf_bundle")

    def test_stale_delete(self, seeded: Store) -> None:
        with pytest.raises(ConflictError, match="version 1"):
            flags.delete_flag(seeded, actor="carol", key="awf_bundle", expected_version=7)

    def test_list(self, seeded: Store) -> None:
        flags.create_flag(seeded, actor="alice", key="alpha")
        assert [s.flag.key for s in flags.list_flags(seeded)] == ["alpha", "awf_bundle"]
        assert flags.list_flags(seeded)[1].to_dict()["state_versions"]["prod"] == 3
