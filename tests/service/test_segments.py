"""Segments: reusable audiences, protected while a rule uses them."""

from __future__ import annotations

import pytest

from phased.core.flagfile import parse_flagset
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import apply, segments
from phased.store.engine import Store


class TestSegments:
    """Create, list, show, delete."""

    def test_create_with_several_conditions(self, store: Store) -> None:
        result = segments.create_segment(
            store,
            actor="pm",
            key="beta",
            where=["labels contains beta-test", "app_version semver_gte 2.4.0"],
            description="Beta testers on a recent app",
        )
        assert result.entries[0].action == "segment.create"
        assert result.entries[0].entity == "segment:beta"
        segment, used = segments.get_segment(store, "beta")
        assert segments.segment_dict(segment)["where"] == {
            "all": ["labels contains beta-test", "app_version semver_gte 2.4.0"]
        }
        assert used == []
        assert [s.key for s in segments.list_segments(store)] == ["beta"]

    @pytest.mark.parametrize(
        ("where", "match"),
        [
            ([], "at least one condition"),
            (["role is admin"], "unknown operator"),
            (["role"], "cannot read"),
        ],
    )
    def test_bad_conditions(self, store: Store, where: list[str], match: str) -> None:
        with pytest.raises(ValidationError, match=match) as info:
            segments.create_segment(store, actor="pm", key="x", where=where)
        assert info.value.field == "where"

    def test_duplicate(self, seeded: Store) -> None:
        with pytest.raises(ConflictError, match="exists already"):
            segments.create_segment(seeded, actor="pm", key="staff", where=["role eq x"])

    def test_delete_in_use_is_refused(self, seeded: Store) -> None:
        wanted = parse_flagset(
            """
segments:
  staff: {where: 'role in [admin, pm]'}
flags:
  awf_bundle:
    env_var: AWF_BUNDLE_ON
    environments:
      prod: {rollout: 5, rules: [{segment: staff}]}
"""
        )
        apply.apply(seeded, actor="a", wanted=wanted)
        before = seeded.dump()
        with pytest.raises(ConflictError, match=r"used by awf_bundle@prod rules\[0\]"):
            segments.delete_segment(seeded, actor="a", key="staff")
        assert seeded.dump() == before

    def test_delete(self, seeded: Store) -> None:
        result = segments.delete_segment(seeded, actor="a", key="staff")
        assert result.entries[0].action == "segment.delete"
        with pytest.raises(NotFoundError):
            segments.get_segment(seeded, "staff")
