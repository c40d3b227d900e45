"""Execution traces and the bounded, thread-safe trace store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from phased.obs import (
    ExecutionTrace,
    StepStatus,
    TraceStore,
    get_context,
    get_trace_store,
    trace,
)


class FakeTimer:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(trace_id: str, user: str | None = "u") -> ExecutionTrace:
    return ExecutionTrace(trace_id=trace_id, command="/x", user=user)


class TestTraceContextManager:
    """trace() records steps, timings, errors and binds its ids to the log context."""

    def test_steps_and_timings(self) -> None:
        timer, store = FakeTimer(), TraceStore()
        start = datetime(2025, 10, 16, 18, tzinfo=UTC)
        with trace("/diagnose", user="u1", store=store, clock=lambda: start, timer=timer) as tr:
            timer.now += 0.010
            tr.step("Validate input")
            with tr.step("Trigger workflow", run_id=123):
                timer.now += 0.250
            timer.now += 0.005
            tr.step("Parse results")
        assert [(s.name, s.status, round(s.duration_ms or 0)) for s in tr.steps] == [
            ("Validate input", StepStatus.OK, 10),
            ("Trigger workflow", StepStatus.OK, 250),
            ("Parse results", StepStatus.OK, 5),
        ]
        assert tr.steps[1].details == {"run_id": 123}
        assert round(tr.duration_ms or 0) == 265
        assert tr.started_at == start
        assert tr.ok
        assert store.last() is tr

    def test_failing_step_and_error(self) -> None:
        store = TraceStore()
        with (
            pytest.raises(RuntimeError),
            trace("/deploy", store=store) as tr,
            tr.step("Push"),
        ):
            raise RuntimeError("refused token=ghp_" + "a" * 36)
        assert tr.steps[0].status is StepStatus.FAILED
        assert tr.error is not None
        assert tr.error.startswith("RuntimeError: refused")
        assert "a" * 36 not in tr.error
        assert not tr.ok

    def test_in_progress_trace_is_visible(self) -> None:
        store = TraceStore()
        with trace("/long", store=store) as tr:
            assert store.last() is tr
            assert not tr.finished
            step = tr.step("Poll").__enter__()
            assert step.status is StepStatus.RUNNING

    def test_binds_log_context(self) -> None:
        with trace("/diagnose", user="u7", store=TraceStore(), trace_id="t-123"):
            bound = get_context()
        assert bound["trace_id"] == "t-123"
        assert bound["cmd"] == "/diagnose"
        assert bound["user_id"] == "u7"
        assert "trace_id" not in get_context()

    def test_default_store_is_process_wide(self) -> None:
        assert get_trace_store() is get_trace_store()
        with trace("/global") as tr:
            pass
        assert get_trace_store().get(tr.trace_id) is tr
        assert len(tr.trace_id) == 32


class TestTraceStore:
    """The store keeps the last 100 traces per user and 1,000 overall, oldest out first."""

    def test_per_user_bound(self) -> None:
        store = TraceStore()
        for i in range(150):
            store.add(make(f"a{i}", user="alice"))
        store.add(make("b0", user="bob"))
        kept = store.list("alice")
        assert len(kept) == 100
        assert kept[0].trace_id == "a149"
        assert kept[-1].trace_id == "a50"
        assert store.get("a49") is None
        assert store.last("bob") is not None

    def test_total_bound(self) -> None:
        store = TraceStore()
        for i in range(1200):
            store.add(make(f"t{i}", user=f"user{i % 20}"))
        assert len(store) == 1000
        assert store.get("t199") is None
        assert store.get("t200") is not None
        assert sum(len(store.list(f"user{u}")) for u in range(20)) == 1000

    def test_last_per_user_and_overall(self) -> None:
        store = TraceStore()
        store.add(make("1", user="alice"))
        store.add(make("2", user="bob"))
        assert store.last("alice").trace_id == "1"  # type: ignore[union-attr]
        assert store.last().trace_id == "2"  # type: ignore[union-attr]
        assert store.last("carol") is None

    def test_re_adding_moves_to_newest(self) -> None:
        store = TraceStore(per_user=2)
        first = make("1")
        store.add(first)
        store.add(make("2"))
        store.add(first)
        store.add(make("3"))
        assert [t.trace_id for t in store.list("u")] == ["3", "1"]

    def test_thread_safe(self) -> None:
        store = TraceStore(per_user=50, total=300)

        def work(worker: int) -> None:
            for i in range(500):
                store.add(make(f"{worker}-{i}", user=f"u{worker % 4}"))
                store.last(f"u{worker % 4}")
                store.list()

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store) == 200  # 4 users x 50
        for user in range(4):
            assert len(store.list(f"u{user}")) == 50
