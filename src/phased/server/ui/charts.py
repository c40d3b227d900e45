"""Gate charts: each gate's measured value against its threshold over time, as inline SVG.

Rendered on the server from the rollout history (every recorded decision
keeps every gate evaluation), so the page needs no script and no chart
library. The SVG uses presentation attributes and CSS classes only — no
inline ``style`` — because the dashboard's Content-Security-Policy forbids
inline styles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape

from phased.core.analysis.comparison import fmt_value
from phased.service.rollout_records import HistoryEntry

MAX_POINTS = 240
"""The most recent evaluations drawn per gate (older ones are summarised away)."""


@dataclass(frozen=True, slots=True)
class Point:
    """One evaluation of one gate."""

    at: datetime
    value: float
    threshold: float | None
    control: float | None
    verdict: str
    stage: str
    reason: str


@dataclass(slots=True)
class Series:
    """Every numeric evaluation of one gate or trigger, oldest first."""

    kind: str
    label: str
    metric: str
    points: list[Point] = field(default_factory=list)

    @property
    def last(self) -> Point:
        """The latest evaluation."""
        return self.points[-1]


def gate_series(history: Iterable[HistoryEntry]) -> list[Series]:
    """Gates first, then triggers, each in the order it first appears in the history."""
    found: dict[tuple[str, str], Series] = {}
    for entry in history:
        for ev in entry.evaluations:
            if ev.kind not in ("gate", "trigger") or ev.value is None:
                continue
            key = (ev.kind, ev.label)
            series = found.setdefault(key, Series(ev.kind, ev.label, ev.metric))
            comparison = ev.control_value is not None or ev.e_value is not None
            series.points.append(
                Point(
                    at=entry.at,
                    value=ev.value,
                    # A comparison's threshold bounds its e-value, not the metric: not drawn.
                    threshold=None if comparison else ev.threshold,
                    control=ev.control_value,
                    verdict=ev.verdict.value,
                    stage=ev.stage or entry.stage,
                    reason=ev.reason,
                )
            )
    out = sorted(found.values(), key=lambda s: 0 if s.kind == "gate" else 1)
    for series in out:
        series.points = series.points[-MAX_POINTS:]
    return out


@dataclass(frozen=True, slots=True)
class _Frame:
    width: int
    height: int
    left: int = 52
    right: int = 8
    top: int = 18
    bottom: int = 22


def _fmt_time(at: datetime) -> str:
    return at.strftime("%m-%d %H:%M")


def _polyline(points: Sequence[tuple[float, float]], cls: str) -> str:
    if len(points) < 2:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{cls}" fill="none" points="{coords}"/>'


OFF_SCALE = 4.0
"""A threshold further than this factor above every value is marked, not scaled to."""


def _range(series: Series) -> tuple[float, float, bool]:
    """The y range, and whether the threshold lies off it (far above every value)."""
    pts = series.points
    values = [p.value for p in pts] + [p.control for p in pts if p.control is not None]
    limits = [p.threshold for p in pts if p.threshold is not None]
    lo = min(0.0, *values, *limits)
    top = max(values)
    off_scale = bool(limits) and top > 0 and min(limits) > top * OFF_SCALE
    if limits and not off_scale:
        top = max(top, *limits)
    hi = top * 1.15 if top > lo else lo + 1.0
    return lo, hi, off_scale


def render_svg(series: Series, *, width: int = 480, height: int = 180) -> Markup:
    """One gate's chart: value (line and verdict-coloured dots), threshold (dashed), control."""
    f = _Frame(width, height)
    pts = series.points
    t0, t1 = pts[0].at.timestamp(), pts[-1].at.timestamp()
    span = (t1 - t0) or 60.0
    lo, hi, off_scale = _range(series)
    plot_w = f.width - f.left - f.right
    plot_h = f.height - f.top - f.bottom

    def x(at: datetime) -> float:
        return f.left + (at.timestamp() - t0) / span * plot_w if t1 > t0 else f.left + plot_w / 2

    def y(v: float) -> float:
        return f.top + (1 - (min(v, hi) - lo) / (hi - lo)) * plot_h

    title = f"{series.label}: latest {fmt_value(series.last.value)} ({series.last.verdict})"
    parts = [
        f'<svg class="chart" viewBox="0 0 {f.width} {f.height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0.0, 0.5, 1.0):
        value = lo + (hi - lo) * frac
        gy = y(value)
        parts.append(
            f'<line class="grid" x1="{f.left}" x2="{f.width - f.right}" y1="{gy:.1f}" '
            f'y2="{gy:.1f}"/><text class="axis" x="{f.left - 5}" y="{gy + 4:.1f}" '
            f'text-anchor="end">{escape(fmt_value(value))}</text>'
        )
    previous = None
    for p in pts:
        if previous is not None and p.stage != previous:
            sx = x(p.at)
            parts.append(
                f'<line class="stage-mark" x1="{sx:.1f}" x2="{sx:.1f}" y1="{f.top}" '
                f'y2="{f.height - f.bottom}"/><text class="stage-label" x="{sx + 3:.1f}" '
                f'y="{f.top - 6}">{escape(p.stage)}</text>'
            )
        previous = p.stage
    limits = [p.threshold for p in pts if p.threshold is not None]
    if off_scale:
        parts.append(
            f'<line class="threshold" x1="{f.left}" x2="{f.width - f.right}" y1="{f.top}" '
            f'y2="{f.top}"/><text class="axis threshold-note" x="{f.width - f.right}" '
            f'y="{f.top + 12}" text-anchor="end">threshold {escape(fmt_value(limits[-1]))} '
            "(far above, not to scale) ↑</text>"
        )
    else:
        marks = [(x(p.at), y(p.threshold)) for p in pts if p.threshold is not None]
        if len(marks) == 1:
            marks = [(f.left, marks[0][1]), (f.width - f.right, marks[0][1])]
        parts.append(_polyline(marks, "threshold"))
    parts.append(
        _polyline([(x(p.at), y(p.control)) for p in pts if p.control is not None], "control")
    )
    parts.append(_polyline([(x(p.at), y(p.value)) for p in pts], "value"))
    for p in pts:
        tip = f"{p.at:%Y-%m-%d %H:%M} · {p.reason}"
        parts.append(
            f'<circle class="pt {escape(p.verdict)}" cx="{x(p.at):.1f}" cy="{y(p.value):.1f}" '
            f'r="2.5"><title>{escape(tip)}</title></circle>'
        )
    parts.append(
        f'<text class="axis" x="{f.left}" y="{f.height - 5}">{escape(_fmt_time(pts[0].at))}</text>'
        f'<text class="axis" x="{f.width - f.right}" y="{f.height - 5}" text-anchor="end">'
        f"{escape(_fmt_time(pts[-1].at))}</text></svg>"
    )
    # Every interpolated text above went through escape(); the rest is our own markup.
    return Markup("".join(parts))
