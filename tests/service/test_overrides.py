"""Overrides: pinned values per user, session or attribute, with expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from phased.core.evaluate import CompiledFlagSet
from phased.errors import NotFoundError, ValidationError
from phased.service import flags, overrides
from phased.service.overrides import parse_expiry
from phased.store.engine import Store
from phased.testing import FrozenClock


def _eval(store: Store, clock: FrozenClock, **ctx: object) -> tuple[object, str]:
    compiled = CompiledFlagSet(flags.load_flagset(store, "prod"), "prod", env={}, clock=clock)
    result = compiled.evaluate("awf_bundle", ctx)
    return result.value, result.reason


class TestSetOverride:
    """A pin wins over rules and rollout, for exactly the context it names."""

    def test_user_session_and_attribute(self, seeded: Store, clock: FrozenClock) -> None:
        for kwargs in ({"user": "user-123"}, {"session": "session-456"}, {"attr": "org=acme"}):
            result = overrides.set_override(
                seeded, actor="admin", key="awf_bundle", environment="prod", serve="on", **kwargs
            )
            assert result.entries[0].action == "override.set"
        assert _eval(seeded, clock, user="user-123") == (True, "override:user=user-123")
        assert _eval(seeded, clock, session="session-456") == (True, "override:session=session-456")
        assert _eval(seeded, clock, user="zz", org="acme") == (True, "override:org=acme")

    def test_setting_again_replaces(self, seeded: Store, clock: FrozenClock) -> None:
        for serve in ("on", "off"):
            overrides.set_override(
                seeded, actor="a", key="awf_bundle", environment="prod", user="u1", serve=serve
            )
        (view,) = overrides.list_overrides(seeded, key="awf_bundle")
        assert view.override.serve is False
        assert _eval(seeded, clock, user="u1") == (False, "override:user=u1")

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"user": "u", "session": "s"}, "target"),
            ({}, "target"),
            ({"attr": "org"}, "attr"),
            ({"user": "u", "expires": "2020-01-01T00:00:00Z"}, "expires"),
            ({"user": "u", "expires": "0d"}, "expires"),
            ({"user": "u", "expires": "next week"}, "expires"),
            ({"user": "u", "serve": "maybe"}, "value"),
        ],
    )
    def test_refused(self, seeded: Store, kwargs: dict[str, str], field: str) -> None:
        before = seeded.dump()
        args = {"serve": "on", **kwargs}
        with pytest.raises(ValidationError) as info:
            overrides.set_override(
                seeded,
                actor="a",
                key="awf_bundle",
                environment="prod",
                **args,  # type: ignore[arg-type]
            )
        assert info.value.field == field
        assert seeded.dump() == before


class TestExpiry:
    """Durations and ISO times; an expired pin stops matching and is listed as expired."""

    @pytest.mark.parametrize(
        ("text", "delta"),
        [("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30))],
    )
    def test_durations(self, text: str, delta: timedelta) -> None:
        now = datetime(2026, 11, 1, tzinfo=UTC)
        assert parse_expiry(text, now) == now + delta

    def test_iso_without_zone_is_utc(self) -> None:
        now = datetime(2026, 11, 1, tzinfo=UTC)
        assert parse_expiry("2026-12-01T00:00:00", now) == datetime(2026, 12, 1, tzinfo=UTC)

    def test_expired_override(self, seeded: Store, clock: FrozenClock) -> None:
        overrides.set_override(
            seeded,
            actor="a",
            key="awf_bundle",
            environment="prod",
            user="u-early",
            serve=True,
            expires="12h",
        )
        assert _eval(seeded, clock, user="u-early")[1] == "override:user=u-early"
        clock.advance(13 * 3600)
        _, reason = _eval(seeded, clock, user="u-early")
        assert not reason.startswith("override")
        (view,) = overrides.list_overrides(seeded, environment="prod")
        assert view.expired
        assert view.to_dict()["expired"] is True


class TestClear:
    """Clearing one pin, or every pin at once (seed 003's emergency rollback)."""

    def test_clear_one(self, seeded: Store) -> None:
        overrides.set_override(
            seeded, actor="a", key="awf_bundle", environment="prod", user="u1", serve=True
        )
        result = overrides.clear_override(
            seeded, actor="b", key="awf_bundle", environment="prod", user="u1"
        )
        assert result.entries[0].action == "override.clear"
        assert overrides.list_overrides(seeded) == []

    def test_clear_missing_is_not_found(self, seeded: Store) -> None:
        before = seeded.dump()
        with pytest.raises(NotFoundError, match="no override for user=u9"):
            overrides.clear_override(
                seeded, actor="b", key="awf_bundle", environment="prod", user="u9"
            )
        assert seeded.dump() == before

    def test_clear_all_audits_every_flag(self, seeded: Store) -> None:
        flags.create_flag(seeded, actor="a", key="other")
        for key in ("awf_bundle", "other"):
            for user in ("u1", "u2"):
                overrides.set_override(
                    seeded, actor="a", key=key, environment="prod", user=user, serve=True
                )
        overrides.set_override(
            seeded, actor="a", key="other", environment="dev", user="u1", serve=True
        )
        result = overrides.clear_all_overrides(seeded, actor="admin", environment="prod")
        assert sorted(e.entity for e in result.entries) == ["flag:awf_bundle", "flag:other"]
        assert {e.action for e in result.entries} == {"override.clear_all"}
        remaining = overrides.list_overrides(seeded)
        assert [(v.flag, v.environment) for v in remaining] == [("other", "dev")]

    def test_clear_all_of_one_flag(self, seeded: Store) -> None:
        flags.create_flag(seeded, actor="a", key="other")
        for key in ("awf_bundle", "other"):
            overrides.set_override(
                seeded, actor="a", key=key, environment="prod", user="u1", serve=True
            )
        overrides.clear_all_overrides(seeded, actor="a", environment="prod", key="other")
        assert [v.flag for v in overrides.list_overrides(seeded)] == ["awf_bundle"]
