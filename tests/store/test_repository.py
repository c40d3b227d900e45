"""Versioned rows: loading a flag set back, and refusing stale writes."""

from __future__ import annotations

import pytest

from phased.core.flags import Flag, FlagState, Segment
from phased.errors import ConflictError
from phased.store import repository
from phased.store.engine import Store
from phased.testing import FrozenClock


def _flag(key: str = "awf_bundle", **envs: FlagState) -> Flag:
    return Flag(key=key, description="AWF", env_var="AWF_BUNDLE_ON", environments=envs)


class TestRoundTrip:
    """What is written loads back as equal core models."""

    def test_flags_states_and_segments(self, store: Store, clock: FrozenClock) -> None:
        now = clock.datetime()
        segment = Segment(key="staff", where="role in [admin, pm]")
        flag = _flag(prod=FlagState(rollout=25, rules=({"segment": "staff"},)))  # type: ignore[arg-type]
        with store.write() as conn:
            repository.insert_segment(conn, segment, now)
            repository.insert_flag(conn, flag, now)
            repository.write_state(
                conn, flag.key, environment="prod", state=flag.state("prod"), expected=0, now=now
            )
        with store.read() as conn:
            snap = repository.load(conn, store.environments)
        assert snap.flagset.flags["awf_bundle"] == flag
        assert snap.flagset.segments["staff"] == segment
        assert snap.flag_version("awf_bundle") == 1
        assert snap.state_version("awf_bundle", "prod") == 1
        assert snap.state_version("awf_bundle", "dev") == 0

    def test_loading_one_environment(self, store: Store, clock: FrozenClock) -> None:
        now = clock.datetime()
        flag = _flag(dev=FlagState(default=True), prod=FlagState(rollout=5))
        with store.write() as conn:
            repository.insert_flag(conn, flag, now)
            for env in ("dev", "prod"):
                repository.write_state(
                    conn, flag.key, environment=env, state=flag.state(env), expected=0, now=now
                )
        with store.read() as conn:
            snap = repository.load(conn, store.environments, only="prod")
        assert set(snap.flagset.flags["awf_bundle"].environments) == {"prod"}


class TestVersions:
    """A write against an old version is refused and names the current one."""

    def test_stale_definition_update(self, store: Store, clock: FrozenClock) -> None:
        now = clock.datetime()
        with store.write() as conn:
            repository.insert_flag(conn, _flag(), now)
            assert repository.update_flag(conn, _flag(), 1, now) == 2
        with pytest.raises(ConflictError, match="now at version 2") as info, store.write() as conn:
            repository.update_flag(conn, _flag(), 1, now)
        assert info.value.field == "version"

    def test_stale_state_write(self, store: Store, clock: FrozenClock) -> None:
        now = clock.datetime()
        with store.write() as conn:
            repository.insert_flag(conn, _flag(), now)
            repository.write_state(
                conn, "awf_bundle", environment="prod", state=FlagState(), expected=0, now=now
            )
        with pytest.raises(ConflictError, match="version 1"), store.write() as conn:
            repository.write_state(
                conn, "awf_bundle", environment="prod", state=FlagState(), expected=0, now=now
            )

    def test_deleted_row_is_named(self, store: Store, clock: FrozenClock) -> None:
        now = clock.datetime()
        with store.write() as conn:
            repository.insert_flag(conn, _flag(), now)
            repository.delete_flag(conn, "awf_bundle", 1)
        with pytest.raises(ConflictError, match="deleted"), store.write() as conn:
            repository.update_flag(conn, _flag(), 1, now)

    def test_revision_bumps(self, store: Store) -> None:
        with store.write() as conn:
            assert repository.bump_revision(conn) == 1
        assert store.revision() == 1
