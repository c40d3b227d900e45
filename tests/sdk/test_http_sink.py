"""Outcome batches to a server: never blocking, retried under one id, counted once, flushed on close."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from phased.core.outcomes import Aggregate, Arm, OutcomeKey
from phased.sdk.client import Client
from phased.sdk.http_sink import Batch, HttpSink
from phased.sdk.transport import Backoff
from phased.service.outcomes import read_totals

from .conftest import ENV, SDK_TOKEN, FakeSdkServer, PhasedServer, free_port, wait_for

FAST = Backoff(base=0.02, cap=0.1, floor=0.01)
SLOT = 180_000_000


def windows(flag: str, n: int, requests: int = 1) -> list[tuple[OutcomeKey, Aggregate]]:
    out = []
    for i in range(n):
        agg = Aggregate()
        for _ in range(requests):
            agg.record(latency_ms=5.0)
        out.append((OutcomeKey(flag, ENV, Arm.CANDIDATE, "", SLOT + i), agg))
    return out


def sink_for(url: str, **kwargs: object) -> HttpSink:
    return HttpSink(url, SDK_TOKEN, ENV, backoff=FAST, **kwargs)  # type: ignore[arg-type]


class TestRealServer:
    """Against the real phased server: tracked outcomes arrive once; a resent batch is a no-op."""

    def test_client_close_flushes_tracked_outcomes(
        self, phased_server: PhasedServer, tmp_path: Path
    ) -> None:
        client = Client(
            url=phased_server.url,
            token=phased_server.sdk_token,
            environment=ENV,
            backup_path=False,
        )
        for i in range(30):
            with client.track("checkout", user=f"u{i}"):
                pass
        client.close()
        totals = read_totals(phased_server.store, "checkout", ENV)
        assert totals[Arm.CONTROL].requests == 30  # the flag is off: every use is control
        assert totals[Arm.CANDIDATE].requests == 0

    def test_resent_batch_is_counted_once(self, phased_server: PhasedServer) -> None:
        sink = HttpSink(phased_server.url, phased_server.sdk_token, ENV)
        batch = Batch("b" * 32, windows("checkout", 3, requests=2))
        assert sink._post(batch) is None
        assert sink._post(batch) is None  # a retry after a lost answer: same id
        sink.close()
        assert sink.stats.duplicate_batches == 1
        totals = read_totals(phased_server.store, "checkout", ENV)
        assert totals[Arm.CANDIDATE].requests == 6

    def test_window_of_another_environment_is_rejected_not_retried(
        self, phased_server: PhasedServer
    ) -> None:
        sink = HttpSink(phased_server.url, phased_server.sdk_token, ENV, backoff=FAST)
        key = OutcomeKey("checkout", "dev", Arm.CANDIDATE, "", SLOT)
        agg = Aggregate()
        agg.record(latency_ms=1.0)
        sink.write([(key, agg)])
        assert sink.flush(5)
        sink.close()
        assert sink.stats.rejected_windows == 1
        assert sink.stats.retries == 0
        assert "403" in (sink.stats.last_error or "")


class TestRetries:
    """Failures that can pass are retried with the same batch id; the server counts once."""

    def test_lost_answer_is_retried_and_counted_once(self, fake_server: FakeSdkServer) -> None:
        fake_server.state.lose_answers = 1
        sink = sink_for(fake_server.url)
        sink.write(windows("f", 4))
        assert sink.flush(5)
        sink.close()
        assert len(fake_server.state.batch_ids) == 1
        assert fake_server.total_requests("f") == 4
        assert sink.stats.retries == 1
        assert sink.stats.duplicate_batches == 1

    def test_unavailable_server_is_retried(self, fake_server: FakeSdkServer) -> None:
        fake_server.state.fail_posts = 3
        sink = sink_for(fake_server.url)
        sink.write(windows("f", 2))
        assert sink.flush(5)
        sink.close()
        assert sink.stats.retries == 3
        assert sink.stats.sent_windows == 2
        assert fake_server.total_requests("f") == 2

    def test_large_flush_is_split_into_batches(self, fake_server: FakeSdkServer) -> None:
        sink = sink_for(fake_server.url, batch_size=10)
        sink.write(windows("f", 25))
        sink.close()
        assert len(fake_server.state.batch_ids) == 3
        assert fake_server.total_requests("f") == 25


class TestBoundedQueue:
    """A down server never blocks the writer; overflow is counted, logged and reported."""

    def test_write_never_blocks_and_counts_overflow(
        self, fake_server: FakeSdkServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        fake_server.stop()
        sink = sink_for(fake_server.url, max_queue=3, batch_size=1)
        started = time.monotonic()
        for i in range(10):
            sink.write(windows(f"f{i}", 1))
        assert time.monotonic() - started < 0.5
        assert wait_for(lambda: sink.stats.retries >= 1)
        # One batch may be in flight; the queue holds 3; the rest are dropped oldest first.
        assert sink.stats.dropped_windows in (6, 7)
        assert "outcome queue full" in caplog.text
        fake_server.start()
        assert sink.flush(10)
        sink.close()
        assert fake_server.state.reported_drops == sink.stats.dropped_windows
        assert fake_server.total_requests("f9") == 1  # the newest survive

    def test_close_gives_up_after_its_timeout(self) -> None:
        sink = sink_for(f"http://127.0.0.1:{free_port()}")
        sink.write(windows("f", 1))
        started = time.monotonic()
        sink.close(timeout=0.3)
        assert time.monotonic() - started < 3
        assert sink.stats.sent_windows == 0


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
class TestFork:
    """A forked child never sends the parent's queued batches; it sends its own."""

    def test_child_starts_with_an_empty_queue(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.state.fail_posts = 1_000  # keep the parent's batch queued
        sink = sink_for(fake_server.url)
        sink.write(windows("parent", 1))
        assert wait_for(lambda: sink.stats.retries >= 1)
        report = tmp_path / "child.json"
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                pending_at_start = sink.pending
                sink.write(windows("child", 1))
                flushed = sink.flush(5)
                report.write_text(json.dumps({"pending": pending_at_start, "flushed": flushed}))
                code = 0
            finally:
                os._exit(code)
        try:
            fake_server.state.fail_posts = 0  # the server runs in this (the parent) process
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert json.loads(report.read_text()) == {"pending": 0, "flushed": True}
            assert sink.flush(5)
        finally:
            sink.close()
        assert fake_server.total_requests("child") == 1
        assert fake_server.total_requests("parent") == 1  # sent once, by the parent
