"""debug-last rendering: the seed's layout, redacted, always under 2,000 characters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from phased.obs import ExecutionTrace, StepStatus, TraceStep, TraceStore, render_debug_last
from phased.obs.debug_last import DISCORD_LIMIT, NO_TRACE, render_trace

START = datetime(2025, 10, 16, 18, 0, 0, tzinfo=UTC)


def seed_trace() -> ExecutionTrace:
    trace = ExecutionTrace(trace_id="abc123de-456f-789g", command="/diagnose", started_at=START)
    for name, ms in [
        ("Validate input", 10),
        ("Trigger workflow", 250),
        ("Poll for completion", 2500),
        ("Parse results", 90),
    ]:
        trace.steps.append(TraceStep(name=name, duration_ms=ms))
    trace.duration_ms = 2850
    trace.links["View Run"] = "https://github.com/org/repo/actions/runs/123"
    return trace


class TestLayout:
    """The output follows seed 001's example."""

    def test_seed_example(self) -> None:
        assert render_trace(seed_trace()) == "\n".join(
            [
                "🔍 Last Execution Debug Info",
                "",
                "Command: /diagnose",
                "Trace ID: abc123de-456f-789g",
                "Started: 2025-10-16 18:00:00 UTC",
                "Duration: 2850ms",
                "",
                "Steps:",
                "  ✅ Validate input (10ms)",
                "  ✅ Trigger workflow (250ms)",
                "  ✅ Poll for completion (2500ms)",
                "  ✅ Parse results (90ms)",
                "",
                "[View Run](https://github.com/org/repo/actions/runs/123)",
            ]
        )

    def test_failed_running_and_error(self) -> None:
        trace = seed_trace()
        trace.steps[2] = TraceStep(name="Poll for completion", status=StepStatus.FAILED)
        trace.steps[3] = TraceStep(name="Parse results", status=StepStatus.RUNNING)
        trace.error = "Timeout after 30s"
        text = render_trace(trace)
        assert "  ❌ Poll for completion" in text
        assert "  ⏳ Parse results (running)" in text
        assert "❌ Error: Timeout after 30s" in text

    def test_no_trace(self) -> None:
        assert render_debug_last(store=TraceStore()) == NO_TRACE

    def test_per_user(self) -> None:
        store = TraceStore()
        mine = ExecutionTrace(trace_id="mine", command="/a", user="me")
        store.add(mine)
        store.add(ExecutionTrace(trace_id="theirs", command="/b", user="them"))
        assert "Trace ID: mine" in render_debug_last("me", store=store)
        assert "Trace ID: theirs" in render_debug_last(store=store)


class TestRedaction:
    """Step details, errors and links never show secrets."""

    def test_redacted(self) -> None:
        trace = seed_trace()
        trace.steps[1].details = {"api_token": "secret12345678", "run": 123}
        trace.error = "POST https://discord.com/api/webhooks/1/AbCdEfGhIjKlMnOp failed"
        trace.links["hook"] = "https://user:hunter22pw@example.com/x"
        text = render_trace(trace)
        assert "  ✅ Trigger workflow (250ms) — api_token=***5678, run=123" in text
        for secret in ("secret1234", "AbCdEfGhIjKl", "hunter22"):
            assert secret not in text


class TestBounds:
    """Long traces are truncated by whole steps, with a '… N more steps' line."""

    def test_many_steps(self) -> None:
        trace = seed_trace()
        trace.steps = [TraceStep(name=f"Step number {i} " + "x" * 40) for i in range(200)]
        text = render_trace(trace)
        assert len(text) < DISCORD_LIMIT
        lines = text.splitlines()
        more = [line for line in lines if "more steps" in line]
        assert len(more) == 1
        shown = sum(1 for line in lines if line.startswith("  ✅"))
        assert more[0] == f"  … {200 - shown} more steps"
        assert "Step number 0 " in text
        assert "Step number 199 " in text  # the last step, often the failing one, stays
        assert lines[-1].startswith("[View Run]")

    def test_huge_fields_are_clipped(self) -> None:
        trace = seed_trace()
        trace.command = "/x" * 5000
        trace.error = "boom\n" * 5000
        trace.user = "u" * 5000
        trace.links = {f"link{i}": "https://e.com/" + "y" * 3000 for i in range(20)}
        text = render_trace(trace)
        assert len(text) < DISCORD_LIMIT
        assert "… 17 more links" in text


names = st.text(min_size=0, max_size=300)
steps = st.lists(
    st.builds(
        TraceStep,
        name=names,
        status=st.sampled_from(StepStatus),
        duration_ms=st.one_of(st.none(), st.floats(0, 1e7)),
        details=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=3),
    ),
    max_size=120,
)


class TestBoundsProperty:
    """For any trace the output is < 2,000 characters and made of whole lines."""

    @settings(max_examples=60, deadline=None)
    @given(
        steps=steps,
        command=names,
        error=st.one_of(st.none(), st.text(max_size=3000)),
        links=st.dictionaries(st.text(max_size=50), st.text(max_size=500), max_size=8),
        limit=st.integers(400, DISCORD_LIMIT),
    )
    def test_bounded_whole_lines(
        self,
        steps: list[TraceStep],
        command: str,
        error: str | None,
        links: dict[str, str],
        limit: int,
    ) -> None:
        trace = ExecutionTrace(trace_id="t", command=command, started_at=START, steps=steps)
        trace.error = error
        trace.links = links
        text = render_trace(trace, limit=limit)
        full = render_trace(trace, limit=10**9)
        assert len(text) < limit
        full_lines = full.splitlines()
        for line in text.splitlines():
            assert line in full_lines or re.fullmatch(r"  … \d+ more steps?", line)
