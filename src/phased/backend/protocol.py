"""The typed interface between a client of phased (the CLI) and its use cases.

A :class:`Backend` is the service layer as a client sees it: one attribute
per area (``backend.flags``, ``backend.rollout_controls``, ...), whose
methods are the functions of :mod:`phased.service` of the same names, minus
the ``store`` argument. Two implementations:

* :class:`phased.backend.local.LocalBackend`: the service layer over a store
  (``--db``, PHASED_DATABASE_URL);
* :class:`phased.backend.http.HttpBackend`: the same calls over the HTTP API
  (PHASED_SERVER + PHASED_TOKEN), returning the same objects rebuilt from its
  JSON.

Both are checked against these protocols by mypy (see
``backend/local/`` and ``backend/http.py``), and a CLI command that calls
a method with a wrong argument fails ``mypy --strict``. Over HTTP the
``actor`` of a mutation is the token's owner and is not sent.

Adding a use case (docs/architecture.md has the recipe): the service
function, its route, one method here, one in ``LocalBackend``'s area, one in
the HTTP area, then the command.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol

from phased.backend.areas import (
    Alerts,
    AlertTriggers,
    Apply,
    Approvals,
    Audit,
    Compare,
    Flags,
    GoldenRuns,
    HookRuns,
    Incidents,
    Members,
    Overrides,
    PlanRollouts,
    Retire,
    RolloutControls,
    RolloutReport,
    Rollouts,
    Segments,
    SourceQueries,
    Tokens,
)

__all__ = ["AREAS", "Backend"]


class Backend(Protocol):
    """Where a client works: a store through the service layer, or a server through its API."""

    @property
    def environments(self) -> tuple[str, ...]:
        """The environments every flag has."""
        ...

    def revision(self) -> int:
        """The flag-set revision (after this command's own change, over HTTP)."""
        ...

    def clock(self) -> datetime:
        """Now, in UTC (relative times like ``--since 7d`` are read against it)."""
        ...

    @property
    def alerts(self) -> Alerts:
        """:mod:`phased.service.alerts`."""
        ...

    @property
    def apply(self) -> Apply:
        """:mod:`phased.service.apply`."""
        ...

    @property
    def approvals(self) -> Approvals:
        """:mod:`phased.service.approvals`."""
        ...

    @property
    def audit(self) -> Audit:
        """:mod:`phased.service.audit`."""
        ...

    @property
    def compare(self) -> Compare:
        """:mod:`phased.service.compare`."""
        ...

    @property
    def flags(self) -> Flags:
        """:mod:`phased.service.flags`."""
        ...

    @property
    def golden_runs(self) -> GoldenRuns:
        """:mod:`phased.service.golden_runs`."""
        ...

    @property
    def hook_runs(self) -> HookRuns:
        """:mod:`phased.service.hook_runs`."""
        ...

    @property
    def incidents(self) -> Incidents:
        """:mod:`phased.service.incidents`."""
        ...

    @property
    def members(self) -> Members:
        """:mod:`phased.service.members`."""
        ...

    @property
    def overrides(self) -> Overrides:
        """:mod:`phased.service.overrides`."""
        ...

    @property
    def plan_rollouts(self) -> PlanRollouts:
        """:mod:`phased.service.plan_rollouts`."""
        ...

    @property
    def retire(self) -> Retire:
        """:mod:`phased.service.retire`."""
        ...

    @property
    def rollout_controls(self) -> RolloutControls:
        """:mod:`phased.service.rollout_controls`."""
        ...

    @property
    def rollout_report(self) -> RolloutReport:
        """:mod:`phased.service.rollout_report`."""
        ...

    @property
    def rollouts(self) -> Rollouts:
        """:mod:`phased.service.rollouts`."""
        ...

    @property
    def segments(self) -> Segments:
        """:mod:`phased.service.segments`."""
        ...

    @property
    def source_queries(self) -> SourceQueries:
        """:mod:`phased.service.source_queries`."""
        ...

    @property
    def tokens(self) -> Tokens:
        """:mod:`phased.service.tokens`."""
        ...

    @property
    def alert_triggers(self) -> AlertTriggers:
        """:mod:`phased.service.alert_triggers`."""
        ...

    def close(self) -> None:
        """Release the store or the connection."""
        ...

    def __enter__(self) -> Backend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


AREAS = (
    "alerts",
    "apply",
    "approvals",
    "audit",
    "compare",
    "flags",
    "golden_runs",
    "hook_runs",
    "incidents",
    "members",
    "overrides",
    "plan_rollouts",
    "retire",
    "rollout_controls",
    "rollout_report",
    "rollouts",
    "segments",
    "source_queries",
    "tokens",
    "alert_triggers",
)
"""The area attributes of a :class:`Backend` (each named after its service module)."""
