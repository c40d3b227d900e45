"""Alerts about a rollout link to its dashboard page, absolute once the dashboard URL is known."""

from __future__ import annotations

from phased.alerts.model import Alert, Severity
from phased.alerts.worker import absolute_links


class TestAbsoluteLinks:
    """Relative dashboard links get the configured base; others are left alone."""

    def test_made_absolute(self) -> None:
        alert = Alert(
            severity=Severity.WARNING,
            message="ux_updates: stage infrastructure needs: approval by pm",
            links={"rollout page": "/ui/rollouts/ux_updates", "runbook": "https://x.test/r"},
        )
        out = absolute_links(alert, "https://phased.example.com/")
        assert out.links == {
            "rollout page": "https://phased.example.com/ui/rollouts/ux_updates",
            "runbook": "https://x.test/r",
        }
        assert out.dedup_key == alert.dedup_key

    def test_no_base_keeps_relative(self) -> None:
        alert = Alert(severity=Severity.WARNING, message="m", links={"rollout page": "/ui/x"})
        assert absolute_links(alert, None) is alert
