"""The trace file: finished traces survive the process, redacted, bounded."""

from __future__ import annotations

from pathlib import Path

from phased.obs import StepStatus, TraceStore, trace
from phased.obs.tracefile import append_trace, load_traces


class TestTraceFile:
    """Traces written by one process are read back by another."""

    def test_round_trip(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        store = TraceStore(sink=lambda tr: append_trace(path, tr))
        with trace("/deploy", user="u", store=store) as tr:
            tr.step("Push", api_key="abcdefgh12345")
            tr.step("Wait", status=StepStatus.FAILED)
            tr.link("Run", "https://ci.example/1")
        loaded = load_traces(path).last("u")
        assert loaded is not None
        assert loaded.trace_id == tr.trace_id
        assert [s.name for s in loaded.steps] == ["Push", "Wait"]
        assert loaded.steps[1].status is StepStatus.FAILED
        assert loaded.steps[0].details == {"api_key": "***2345"}
        assert loaded.links == {"Run": "https://ci.example/1"}
        assert loaded.started_at == tr.started_at
        assert "abcdefgh12345" not in path.read_text()

    def test_failed_trace_is_written(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        store = TraceStore(sink=lambda tr: append_trace(path, tr))
        try:
            with trace("/x", store=store):
                raise ValueError("bad")
        except ValueError:
            pass
        loaded = load_traces(path).last()
        assert loaded is not None
        assert loaded.error == "ValueError: bad"

    def test_compaction_and_torn_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        store = TraceStore(sink=lambda tr: append_trace(path, tr, keep=5))
        for i in range(12):
            with trace(f"/c{i}", store=store):
                pass
        with path.open("a") as out:
            out.write('{"trace_id": "torn"')  # a crash mid-write
        assert len(path.read_text().splitlines()) <= 11
        loaded = load_traces(path)
        assert loaded.last() is not None
        assert loaded.last().command == "/c11"  # type: ignore[union-attr]

    def test_broken_sink_never_breaks_the_command(self) -> None:
        def broken(_: object) -> None:
            raise OSError("disk full")

        with trace("/x", store=TraceStore(sink=broken)):
            pass


class TestPersistTraces:
    """persist_traces() hooks the process-wide store to a file."""

    def test_process_wide(self, tmp_path: Path) -> None:
        from phased.obs.tracefile import persist_traces

        path = tmp_path / "t.jsonl"
        store = persist_traces(path)
        try:
            with trace("/cli-command"):
                pass
        finally:
            store.sink = None
        assert load_traces(path).last().command == "/cli-command"  # type: ignore[union-attr]
