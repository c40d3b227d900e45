"""The log channel: alerts as structured log lines (useful alone in dev, or as a backup)."""

from __future__ import annotations

from typing import Any, ClassVar

from phased.alerts.model import Alert, Severity
from phased.obs.log import get_logger


class LogNotifier:
    """Writes each alert as one log line: error for critical/error, warn for warning."""

    kind: ClassVar[str] = "log"

    def __init__(self, name: str, **_: Any) -> None:
        self.name = name
        self._log = get_logger("phased.alerts")

    def post(self, alert: Alert) -> None:
        """Log one alert; never fails."""
        method = self._log.warning if alert.severity is Severity.WARNING else self._log.error
        method(
            alert.message,
            alert_severity=alert.severity.value,
            root_cause=alert.root_cause,
            alert_trace_id=alert.trace_id,
            links=alert.links,
            flag=alert.flag,
            rollout=alert.rollout,
            rule=alert.rule,
            repeats=alert.repeats,
            channel=self.name,
        )
