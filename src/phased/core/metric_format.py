"""Metric values as people read them: ``0.42 %``, ``812 ms``, ``$3.10``, ``12,034``.

One place so that the CLI, the API's summary, the report and the dashboard
print the same number the same way.
"""

from __future__ import annotations

from datetime import timedelta

from phased.core.durations import format_duration

RATES = ("error_rate", "fallback_rate", "retry_rate")
COUNTS = ("requests", "successes", "errors", "unique_users")


def unit_of(metric: str) -> str:
    """The unit a metric is shown in: ``%``, ``ms``, ``$``, ``s`` or ``""`` (a plain number)."""
    if metric in RATES:
        return "%"
    if metric.startswith("latency_"):
        return "ms"
    if metric.startswith("cost_"):
        return "$"
    if metric == "soak":
        return "s"
    return ""


def fmt_metric(metric: str, value: float | None) -> str:
    """A value as people read it: ``0.42 %``, ``812 ms``, ``$3.10``, ``12,034``."""
    if value is None:
        return "—"
    if metric in RATES:
        return f"{value * 100:.2f} %"
    if metric.startswith("latency_"):
        return f"{value:,.0f} ms"
    if metric == "cost_per_request":
        return f"${value:,.4f}"
    if metric.startswith("cost_"):
        return f"${value:,.2f}"
    if metric == "soak":
        return format_duration(timedelta(seconds=round(value)))
    if metric in COUNTS:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def fmt_change(metric: str, delta: float) -> str:
    """A difference in the metric's unit: ``+0.12 points``, ``-40 ms``, ``+$0.50``."""
    sign = "+" if delta >= 0 else "-"
    size = abs(delta)
    if metric in RATES:
        return f"{sign}{size * 100:.2f} points"
    if metric.startswith("latency_"):
        return f"{sign}{size:,.0f} ms"
    if metric.startswith("cost_"):
        return f"{sign}{fmt_metric(metric, size)}"
    return f"{sign}{size:.4g}"


def fmt_axis(metric: str, value: float) -> str:
    """A short axis label in the metric's unit: ``1 %``, ``250 ms``, ``$5``."""
    if metric in RATES:
        pct = value * 100
        return f"{pct:.2g} %" if pct < 1 and pct != 0 else f"{pct:.3g} %"
    if metric.startswith("latency_"):
        return f"{value / 1000:.3g} s" if value >= 10_000 else f"{value:,.0f} ms"
    if metric.startswith("cost_"):
        return f"${value:.3g}"
    if value >= 10_000:
        return f"{value / 1000:.3g}k"
    return f"{value:.3g}"
