"""One protocol per area of the service layer, as a client calls it.

See :mod:`phased.backend.protocol` for the Backend that holds them.

Each method is the :mod:`phased.service` function of the same module and
name, minus its ``store`` argument. The areas are grouped in modules by what
they serve; every protocol is importable from here.
"""

from __future__ import annotations

from phased.backend.areas.access import Members, Tokens
from phased.backend.areas.alerts import Alerts, AlertTriggers
from phased.backend.areas.flags import Apply, Audit, Flags, Overrides, Segments
from phased.backend.areas.migration import Compare, GoldenRuns, Retire
from phased.backend.areas.rollouts import (
    Approvals,
    HookRuns,
    Incidents,
    PlanRollouts,
    RolloutControls,
    RolloutReport,
    Rollouts,
    SourceQueries,
)

__all__ = [
    "AlertTriggers",
    "Alerts",
    "Apply",
    "Approvals",
    "Audit",
    "Compare",
    "Flags",
    "GoldenRuns",
    "HookRuns",
    "Incidents",
    "Members",
    "Overrides",
    "PlanRollouts",
    "Retire",
    "RolloutControls",
    "RolloutReport",
    "Rollouts",
    "Segments",
    "SourceQueries",
    "Tokens",
]
