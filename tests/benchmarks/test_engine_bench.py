"""The engine benchmark's scenario runs and both modes decide alike (a smoke test, no timing)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import engine as bench


class TestEngineBenchmark:
    """A few hours of windows: the full re-read and the rollups agree on every decision."""

    def test_small_run(self) -> None:
        results = bench.run(days=0.05, passes=1)
        assert results["windows"] == 2 * 432
        assert results["decision"][0] == "hold"
        page = bench.render(results, 0.05, 1)
        assert "| full re-read (before) |" in page
        assert "| rollups, steady state (after) |" in page
