"""The evaluation benchmark's rows evaluate the same flag: a quarter of members, all staff.

Each peer library comes from the ``bench`` extra, which ``make test`` does not
install. A peer whose package is absent is therefore skipped, and skipped under
``CI=true`` too, on purpose: CI runs ``make test`` without the extra, and an
optional benchmark peer that is not installed is not a missing service.
Install the extra (``pip install -e '.[dev,bench]'``) to run those tests.
phased's own rows and the floor always run.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.peers import PEERS, floor, installed, phased_rows
from benchmarks.peers.base import PERCENT, Adapter, Peer, measure_share, population

PEOPLE = population(2_000)
TOLERANCE = 4.0
"""Points around 25 %: about 4 standard deviations for ~1,900 members."""


def _assert_evaluates(adapter: Adapter) -> None:
    share = measure_share(adapter, PEOPLE)
    assert abs(share.member_on - PERCENT) <= TOLERANCE, (
        f"{adapter.name}: {share.member_on:.1f} % of {share.members} members on"
    )
    assert share.staff_on == 100.0, f"{adapter.name}: staff on {share.staff_on:.1f} %"
    items = adapter.prepare(PEOPLE)
    # The timed loop must do the same work as the checked call, not a cheaper one.
    assert adapter.run(items) == sum(adapter.one(item) for item in items)


class TestOwnRows:
    """phased's rows and the pure-Python floor serve the flag to a quarter of members and all staff."""

    def test_phased_rows_evaluate_the_flag(self, tmp_path: Path) -> None:
        rows = phased_rows.build(tmp_path)
        assert [r.name for r in rows][:2] == ["phased is_enabled", "phased evaluate (reason)"]
        for row in rows:
            try:
                _assert_evaluates(row)
            finally:
                row.close()

    def test_floor_evaluates_the_flag(self) -> None:
        _assert_evaluates(floor.build())

    def test_openfeature_floor_evaluates_the_flag(self) -> None:
        row = floor.openfeature_floor()
        if row is None:
            pytest.skip("openfeature-sdk not installed (the bench extra)")
        try:
            _assert_evaluates(row)
        finally:
            row.close()

    def test_floor_and_phased_agree_user_by_user(self, tmp_path: Path) -> None:
        # phased buckets on the documented hash, so the floor is the same flag, not a look-alike.
        client = phased_rows.client(tmp_path)
        row = floor.build()
        for person in PEOPLE:
            assert client.is_enabled("new-checkout", user=person.user, role=person.role) == (
                row.one((person.user, person.role))
            ), person


class TestPeers:
    """Each installed peer evaluates the equivalent flag offline and leaves no thread running."""

    @pytest.mark.parametrize("peer", PEERS, ids=[p.name for p in PEERS])
    def test_peer_evaluates_the_equivalent_flag(self, peer: Peer, tmp_path: Path) -> None:
        if not installed(peer):
            pytest.skip(f"{peer.package} not installed (the bench extra)")
        before = set(threading.enumerate())
        adapters = peer.build(tmp_path)
        try:
            for adapter in adapters:
                _assert_evaluates(adapter)
        finally:
            for adapter in adapters:
                adapter.close()
        started = [t for t in threading.enumerate() if t not in before]
        for thread in started:
            thread.join(timeout=5)
        assert [t.name for t in started if t.is_alive()] == []
