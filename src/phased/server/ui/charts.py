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
from phased.core.metric_format import fmt_axis, fmt_metric
from phased.core.summary import StepPoint
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


def render_svg(series: Series, *, width: int = 400, height: int = 170) -> Markup:
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
            f'text-anchor="end">{escape(fmt_axis(series.metric, value))}</text>'
        )
    previous = None
    marks: list[tuple[float, str]] = []
    for p in pts:
        if previous is not None and p.stage != previous:
            marks.append((x(p.at), p.stage))
        previous = p.stage
    parts += stage_marks(marks, f.top, f.height - f.bottom, f.left, f.width - f.right)
    limits = [p.threshold for p in pts if p.threshold is not None]
    if off_scale:
        shown = fmt_metric(series.metric, limits[-1])
        parts.append(
            f'<line class="threshold" x1="{f.left}" x2="{f.width - f.right}" y1="{f.top}" '
            f'y2="{f.top}"/><text class="axis threshold-note" x="{f.width - f.right}" '
            f'y="{f.top + 12}" text-anchor="end">threshold {escape(shown)} '
            "(far above, not to scale) ↑</text>"
        )
    else:
        line = [(x(p.at), y(p.threshold)) for p in pts if p.threshold is not None]
        if len(line) == 1:
            line = [(f.left, line[0][1]), (f.width - f.right, line[0][1])]
        parts.append(_polyline(line, "threshold"))
    parts.append(
        _polyline([(x(p.at), y(p.control)) for p in pts if p.control is not None], "control")
    )
    parts.append(_polyline([(x(p.at), y(p.value)) for p in pts], "value"))
    for p in pts:
        tip = f"{p.at:%Y-%m-%d %H:%M} · {p.verdict} · {p.reason}"
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


LABEL_GAP = 8.0
"""Pixels kept free between two stage labels."""
CHAR_WIDTH = 6.8
"""Approximate width of one character of a stage label (12 px sans-serif, a little spare)."""


def stage_marks(
    marks: Sequence[tuple[float, str]], top: float, bottom: float, left: float, right: float
) -> list[str]:
    """Vertical stage boundaries with their names, never overlapping and never clipped.

    A label goes right of its line, or left of it when it would cross the right
    edge; a label that would overlap the one before moves down a row (two
    rows), and one that fits nowhere is left out (the line keeps a tooltip).
    """
    parts: list[str] = []
    ends = [left - LABEL_GAP, left - LABEL_GAP]  # right end of the last label in each row
    for sx, name in marks:
        width = len(name) * CHAR_WIDTH
        start = sx + 3
        if start + width > right:
            start = max(sx - 3 - width, left)
        parts.append(
            f'<line class="stage-mark" x1="{sx:.1f}" x2="{sx:.1f}" y1="{top}" y2="{bottom}">'
            f"<title>stage {escape(name)}</title></line>"
        )
        for row, end in enumerate(ends):
            if start >= end + LABEL_GAP and start + width <= right + 0.5:
                y = top - 6 if row == 0 else top + 10
                parts.append(
                    f'<text class="stage-label" x="{start:.1f}" y="{y}">{escape(name)}</text>'
                )
                ends[row] = start + width
                break
    return parts


def render_exposure(
    steps: Sequence[StepPoint], now: datetime, *, width: int = 400, height: int = 130
) -> Markup:
    """The share of users over time as a step chart, with stage boundaries (empty: no runs)."""
    if not steps:
        return Markup("")
    f = _Frame(width, height, left=44, top=26)
    t0 = steps[0].at.timestamp()
    t1 = max(now.timestamp(), steps[-1].at.timestamp())
    span = (t1 - t0) or 60.0
    plot_w = f.width - f.left - f.right
    plot_h = f.height - f.top - f.bottom

    def x(at: float) -> float:
        return f.left + (at - t0) / span * plot_w

    def y(pct: float) -> float:
        return f.top + (1 - pct / 100) * plot_h

    last = steps[-1]
    title = f"Share of users: now {last.percent:g} % ({last.stage}: {last.audience})"
    parts = [
        f'<svg class="chart exposure" viewBox="0 0 {f.width} {f.height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for pct in (0, 50, 100):
        gy = y(pct)
        parts.append(
            f'<line class="grid" x1="{f.left}" x2="{f.width - f.right}" y1="{gy:.1f}" '
            f'y2="{gy:.1f}"/><text class="axis" x="{f.left - 5}" y="{gy + 4:.1f}" '
            f'text-anchor="end">{pct} %</text>'
        )
    coords: list[tuple[float, float]] = []
    for i, step in enumerate(steps):
        sx = x(step.at.timestamp())
        if coords:
            coords.append((sx, coords[-1][1]))
        coords.append((sx, y(step.percent)))
        if i == len(steps) - 1:
            coords.append((x(t1), y(step.percent)))
    parts.append(_polyline(coords, "value step"))
    parts += stage_marks(
        [(x(s.at.timestamp()), s.stage) for s in steps],
        f.top,
        f.height - f.bottom,
        f.left,
        f.width - f.right,
    )
    parts.append(
        f'<text class="axis" x="{f.left}" y="{f.height - 5}">{escape(_fmt_time(steps[0].at))}'
        f'</text><text class="axis" x="{f.width - f.right}" y="{f.height - 5}" '
        f'text-anchor="end">{escape(_fmt_time(now))}</text></svg>'
    )
    return Markup("".join(parts))
