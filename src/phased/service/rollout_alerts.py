"""The alerts a rollout's decisions raise: which notes are sent, when again, and as what.

A decision carries alert notes (:class:`~phased.core.decide.AlertNote`); the
service turns each into an :class:`~phased.core.alerts.Alert` in the outbox,
in the decision's own transaction (:mod:`phased.service.plan_rollouts`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from phased.core.alerts import Alert
from phased.core.alerts import Severity as AlertSeverity
from phased.core.decide import AlertNote
from phased.service.rollout_records import Rollout

OVERDUE_PREFIX = "overdue:"
"""The key of decide's "past max_duration" alert notes."""
REALERT_MIN = timedelta(minutes=5)
REALERT_MAX = timedelta(hours=1)

_ALERT_SEVERITY = {
    "critical": AlertSeverity.CRITICAL,
    "warning": AlertSeverity.WARNING,
    # The alert model has no "info": waiting for an approver is worth a look, not a page.
    "info": AlertSeverity.WARNING,
}


def alert_of(note: AlertNote, rollout: Rollout) -> Alert:
    """The alert for one of a decision's notes, naming the rollout, its page and the trace."""
    # The decision's trace (an engine pass, an API request, a CLI command) is
    # bound to the log context; the alert names it so `debug-last` finds it.
    from phased.obs.log import get_context

    return Alert(
        trace_id=get_context().get("trace_id"),
        severity=_ALERT_SEVERITY[note.severity],
        message=f"{rollout.flag}: {note.message}",
        flag=rollout.flag,
        rollout=f"{rollout.flag}#{rollout.id}",
        rule=note.key,
        environment=rollout.stage_environment,
        # Relative: the alert worker makes it absolute when alerts.dashboard_url is set.
        links={"rollout page": f"/ui/rollouts/{rollout.flag}"},
    )


def realert_interval(max_duration: timedelta) -> timedelta:
    """How often a stage past its ``max_duration`` is alerted again: a quarter of it, 5-60 min."""
    return min(max(max_duration / 4, REALERT_MIN), REALERT_MAX)


def due(note: AlertNote, last_sent: str | None, rollout: Rollout, now: datetime) -> bool:
    """Whether a decision's note is sent now, given when it was last sent this stage run."""
    # Each note key is sent once per stage run (the alert's group key is flag +
    # rollout + note key), except "past max_duration": a stage that stays stuck
    # is worth a reminder, at an interval that scales with the stage.
    if last_sent is None:
        return True
    stage = rollout.stage
    if note.key != OVERDUE_PREFIX + stage.name or stage.max_duration is None:
        return False
    return now - datetime.fromisoformat(last_sent) >= realert_interval(stage.max_duration)
