"""The :class:`~phased.backend.protocol.Backend` over a store: the service layer, in process.

Each area binds its :mod:`phased.service` module to the store: a method is
the service function of the same name with ``self.store`` as its first
argument, and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from phased.backend.local.access import LocalMembers, LocalTokens
from phased.backend.local.alerts import LocalAlerts, LocalAlertTriggers
from phased.backend.local.flags import (
    LocalApply,
    LocalAudit,
    LocalFlags,
    LocalOverrides,
    LocalSegments,
)
from phased.backend.local.migration import LocalCompare, LocalGoldenRuns, LocalRetire
from phased.backend.local.rollouts import (
    LocalApprovals,
    LocalHookRuns,
    LocalIncidents,
    LocalPlanRollouts,
    LocalRolloutControls,
    LocalRolloutReport,
    LocalRollouts,
    LocalSourceQueries,
)

if TYPE_CHECKING:
    from phased.backend.protocol import Backend
    from phased.store.engine import Store


class LocalBackend:
    """The service layer over ``store`` (which the backend closes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.alerts = LocalAlerts(store)
        self.apply = LocalApply(store)
        self.approvals = LocalApprovals(store)
        self.audit = LocalAudit(store)
        self.compare = LocalCompare(store)
        self.flags = LocalFlags(store)
        self.golden_runs = LocalGoldenRuns(store)
        self.incidents = LocalIncidents(store)
        self.members = LocalMembers(store)
        self.overrides = LocalOverrides(store)
        self.plan_rollouts = LocalPlanRollouts(store)
        self.rollout_controls = LocalRolloutControls(store)
        self.rollout_report = LocalRolloutReport(store)
        self.rollouts = LocalRollouts(store)
        self.segments = LocalSegments(store)
        self.tokens = LocalTokens(store)
        self.alert_triggers = LocalAlertTriggers(store)
        self.retire = LocalRetire(store)
        self.hook_runs = LocalHookRuns(store)
        self.source_queries = LocalSourceQueries(store)

    @property
    def environments(self) -> tuple[str, ...]:
        """The store's environments."""
        return self.store.environments

    def revision(self) -> int:
        """The store's flag-set revision."""
        return self.store.revision()

    def clock(self) -> datetime:
        """The store's clock."""
        return self.store.clock()

    def close(self) -> None:
        """Dispose of the store's engine."""
        self.store.close()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check(store: Store) -> Backend:
    return LocalBackend(store)  # mypy: LocalBackend implements the protocol
