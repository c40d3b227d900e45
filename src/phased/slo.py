"""``phased.slo``, the name applications registered SLO hooks under: :mod:`phased.engine.slo`."""

from __future__ import annotations

from phased.engine.slo import (
    Breach,
    Sample,
    Slo,
    SloMonitor,
    SloStatus,
    get_slo_monitor,
    on_breach,
    record,
    suggested_actions,
)

__all__ = [
    "Breach",
    "Sample",
    "Slo",
    "SloMonitor",
    "SloStatus",
    "get_slo_monitor",
    "on_breach",
    "record",
    "suggested_actions",
]
