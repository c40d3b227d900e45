"""Outcome tracking: what a ``with client.track(...)`` block records, and that nothing is lost."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from phased.core.outcomes import Arm
from phased.sdk.client import Client
from phased.sdk.tracker import Tracker
from phased.testing import FrozenClock, MemorySink

FLAGS = """
flags:
  awf_bundle:
    environments:
      prod: {rollout: 50}
"""


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS, encoding="utf-8")
    return path


class TestTrack:
    """A tracked block records its arm, latency, errors, fallbacks, retries, cost, metrics."""

    def test_outcomes_land_per_arm(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        enabled_users = 0
        for i in range(400):
            with client.track("awf_bundle", user=f"u{i}") as t:
                if t.enabled:
                    enabled_users += 1
                    t.fallback()
                    t.cost(0.002)
                    t.retry(2)
                    t.metric("accuracy", 0.9)
        client.close()
        cand, ctrl = sink.total("awf_bundle", Arm.CANDIDATE), sink.total("awf_bundle", "control")
        assert cand.requests == enabled_users
        assert ctrl.requests == 400 - enabled_users
        assert 150 < enabled_users < 250
        assert cand.fallbacks == enabled_users
        assert cand.retries == 2 * enabled_users
        assert cand.cost_usd == pytest.approx(0.002 * enabled_users)
        assert cand.metrics["accuracy"][0] == pytest.approx(0.9 * enabled_users)
        assert ctrl.fallbacks == ctrl.retries == 0

    def test_windows_carry_the_stickiness_key_as_units(self, tmp_path: Path) -> None:
        """Each request's unit is the flag's stickiness key; a unit never lands in both arms."""
        path = tmp_path / "flags.yaml"
        path.write_text(
            FLAGS + "  by_tenant:\n    stickiness: tenant\n    environments:\n"
            "      prod: {rollout: 50}\n",
            encoding="utf-8",
        )
        sink = MemorySink()
        client = Client.from_file(path, environment="prod", sink=sink)
        for i in range(300):
            with client.track("awf_bundle", user=f"u{i % 30}") as t:
                if i % 30 == 0:
                    t.error()
            with client.track("by_tenant", user=f"u{i}", tenant=f"t{i % 7}"):
                pass
        client.close()
        cand, ctrl = sink.total("awf_bundle", Arm.CANDIDATE), sink.total("awf_bundle", "control")
        assert cand.units.units + ctrl.units.units == 30
        assert cand.units.requests + ctrl.units.requests == 300
        assert not cand.units.records.keys() & ctrl.units.records.keys()
        assert cand.units.with_errors + ctrl.units.with_errors == 1
        tenants = sink.total("by_tenant", Arm.CANDIDATE).units.units
        assert tenants + sink.total("by_tenant", Arm.CONTROL).units.units == 7

    def test_latency_is_measured(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        for _ in range(5):
            with client.track("awf_bundle", user="u1"):
                time.sleep(0.02)
        client.close()
        agg = sink.total(
            "awf_bundle",
            Arm.CANDIDATE if client.is_enabled("awf_bundle", user="u1") else Arm.CONTROL,
        )
        p50 = agg.latency.quantile(0.5)
        assert p50 is not None
        assert 19 < p50 < 80

    def test_exception_marks_error_and_propagates(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        with pytest.raises(RuntimeError), client.track("awf_bundle", session="s1"):
            raise RuntimeError("boom")
        client.close()
        assert sum(a.errors for a in sink.windows.values()) == 1

    def test_record_from_elsewhere(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        client.record("awf_bundle", arm="candidate", latency_ms=120, error=True, user="u9")
        client.close()
        agg = sink.total("awf_bundle", "candidate")
        assert (agg.requests, agg.errors, agg.users.estimate()) == (1, 1, 1)

    def test_unknown_flag_is_the_control_arm_and_never_raises(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        with client.track("nope", user="u1") as t:
            assert t.enabled is False
        client.close()
        assert sink.total("nope", "control").requests == 1


class TestWindows:
    """Outcomes are cut into 10-second windows; only closed windows ship before close()."""

    def test_open_window_stays_until_close(self) -> None:
        clock, sink = FrozenClock(1_000.0), MemorySink()
        tracker = Tracker("prod", sink, clock=clock)
        tracker.record("f", Arm.CANDIDATE, latency_ms=5)
        assert tracker.flush() == 0
        clock.advance(10)
        tracker.record("f", Arm.CANDIDATE, latency_ms=5)
        assert tracker.flush() == 1  # the first slot closed
        tracker.close()
        assert sorted(k.slot for k in sink.windows) == [100, 101]


class TestNothingLost:
    """A failing sink keeps windows for the next flush; concurrent threads lose no outcome."""

    def test_failed_flush_is_retried(self) -> None:
        clock, sink = FrozenClock(), MemorySink()
        tracker = Tracker("prod", sink, clock=clock)
        tracker.record("f", Arm.CONTROL)
        clock.advance(20)
        sink.fail = True
        assert tracker.flush() == 0
        assert tracker.stats.failed_flushes == 1
        sink.fail = False
        tracker.close()
        assert sink.total("f", "control").requests == 1

    def test_pending_is_bounded_and_overflow_counted(self) -> None:
        clock, sink = FrozenClock(), MemorySink()
        tracker = Tracker("prod", sink, clock=clock, max_pending=3)
        sink.fail = True
        for i in range(5):
            tracker.record(f"f{i}", Arm.CONTROL)
        clock.advance(20)
        tracker.flush()
        assert tracker.stats.dropped_windows == 2
        sink.fail = False
        tracker.close()
        assert len(sink.windows) == 3

    def test_threads(self, flags_file: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        client.tracker.flush_interval = 0.01  # the flush thread runs while others record

        def work(n: int) -> None:
            for i in range(2_000):
                with client.track("awf_bundle", user=f"t{n}-{i}"):
                    pass

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        total = sum(a.requests for a in sink.windows.values())
        assert total == 8_000


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
class TestFork:
    """After fork the child starts empty with its own thread; the parent's windows ship once."""

    def test_child_does_not_resend_parent_outcomes(self, flags_file: Path, tmp_path: Path) -> None:
        sink = MemorySink()
        client = Client.from_file(flags_file, environment="prod", sink=sink)
        with client.track("awf_bundle", user="parent"):
            pass
        out = tmp_path / "child.txt"
        pid = os.fork()
        if pid == 0:  # the child: record one outcome, report what it would ship
            try:
                with client.track("awf_bundle", user="child"):
                    pass
                windows = client.tracker.drain(everything=True)
                out.write_text(str(sum(a.requests for _, a in windows)))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert out.read_text() == "1"
        client.close()
        assert sum(a.requests for a in sink.windows.values()) == 1
