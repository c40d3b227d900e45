"""Gate charts: series from the rollout history, and the SVG drawn from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from phased.core.gates import GateResult, Verdict
from phased.server.ui.charts import gate_series, render_svg
from phased.service.rollout_records import HistoryEntry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(i: int, stage: str, *evaluations: GateResult) -> HistoryEntry:
    return HistoryEntry(
        id=i,
        at=T0 + timedelta(minutes=10 * i),
        actor="engine",
        kind="hold",
        source="engine",
        stage=stage,
        stage_index=0,
        phase="running",
        reason="holding",
        dry_run=False,
        evaluations=tuple(e.model_copy(update={"stage": stage}) for e in evaluations),
        alerts=(),
        waiting=(),
    )


def _gate(
    label: str,
    value: float | None,
    threshold: float | None = 0.05,
    *,
    kind: str = "gate",
    verdict: Verdict = Verdict.PASS,
    control: float | None = None,
    e_value: float | None = None,
) -> GateResult:
    return GateResult(
        kind=kind,  # type: ignore[arg-type]
        label=label,
        metric="error_rate",
        stage="",
        verdict=verdict,
        value=value,
        threshold=threshold,
        control_value=control,
        e_value=e_value,
        samples=100,
        reason=f"{label}: {value}",
    )


def _points(svg: str, cls: str) -> list[tuple[float, float]]:
    found = re.search(rf'<polyline class="{cls}" fill="none" points="([^"]+)"', svg)
    if found is None:
        return []
    return [tuple(map(float, p.split(","))) for p in found.group(1).split()]  # type: ignore[misc]


class TestGateSeries:
    """Every numeric gate and trigger evaluation becomes a point of its own series."""

    def test_groups_by_check_and_skips_missing_values(self) -> None:
        history = [
            _entry(1, "canary", _gate("error_rate < 0.05", None, verdict=Verdict.WAITING)),
            _entry(2, "canary", _gate("error_rate < 0.05", 0.01), _gate("p95", 300, 800)),
            _entry(3, "canary", _gate("error_rate < 0.05", 0.02, kind="trigger")),
            _entry(4, "wide", _gate("error_rate < 0.05", 0.03)),
        ]
        series = gate_series(history)
        assert [(s.kind, s.label, len(s.points)) for s in series] == [
            ("gate", "error_rate < 0.05", 2),
            ("gate", "p95", 1),
            ("trigger", "error_rate < 0.05", 1),
        ]
        assert [p.stage for p in series[0].points] == ["canary", "wide"]

    def test_comparison_threshold_is_an_e_value_bound_not_a_metric(self) -> None:
        history = [_entry(1, "c", _gate("vs control", 0.011, 1000.0, control=0.01, e_value=0.2))]
        (series,) = gate_series(history)
        assert series.points[0].threshold is None
        assert series.points[0].control == 0.01


class TestRenderSvg:
    """The chart is self-contained SVG: escaped text, no inline style, scaled to what matters."""

    def test_labels_are_escaped_and_no_inline_style(self) -> None:
        history = [
            _entry(i, "canary" if i < 3 else "<b>wide</b>", _gate("<script>x</script>", 0.01 * i))
            for i in range(1, 5)
        ]
        svg = str(render_svg(gate_series(history)[0]))
        assert "<script>" not in svg
        assert "&lt;script&gt;" in svg
        assert "&lt;b&gt;wide&lt;/b&gt;" in svg  # the stage change is marked
        assert "style=" not in svg
        assert svg.startswith("<svg")
        assert svg.endswith("</svg>")

    def test_points_run_left_to_right_and_higher_values_are_higher(self) -> None:
        history = [_entry(i, "c", _gate("g", v)) for i, v in enumerate([0.01, 0.03, 0.02], 1)]
        svg = str(render_svg(gate_series(history)[0]))
        xs, ys = zip(*_points(svg, "value"), strict=True)
        assert list(xs) == sorted(xs)
        assert ys[1] < ys[2] < ys[0]  # SVG y grows downwards

    def test_far_threshold_is_marked_not_scaled_to(self) -> None:
        history = [_entry(i, "c", _gate("p95", 500 + i, 8000.0)) for i in range(1, 4)]
        svg = str(render_svg(gate_series(history)[0]))
        assert "threshold 800000.00 % (far above, not to scale)" in svg  # in the metric's unit
        # Scaled to the values (not to 8,000): they sit near the top of the plot.
        assert all(y < 60 for _, y in _points(svg, "value"))

    def test_near_threshold_is_drawn_to_scale(self) -> None:
        history = [_entry(i, "c", _gate("err", 0.01 * i, 0.05)) for i in range(1, 4)]
        svg = str(render_svg(gate_series(history)[0]))
        threshold_y = _points(svg, "threshold")[0][1]
        assert all(y > threshold_y for _, y in _points(svg, "value"))
        assert "not to scale" not in svg
