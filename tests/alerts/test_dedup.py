"""Deduplication within a window, repeat counts when it closes, Alertmanager-like grouping."""

from __future__ import annotations

from phased.alerts import Alert, Deduplicator, Severity

A = Alert(severity=Severity.CRITICAL, message="dispatch failed", trace_id="abc123de")


class TestSeedWindow:
    """The same alert within 300 s is sent once; the count shows when the window closes."""

    def test_duplicate_held_back(self) -> None:
        dedup = Deduplicator()
        assert dedup.admit(A, 0.0)
        assert not dedup.admit(A, 10.0)
        assert not dedup.admit(A, 299.0)
        assert dedup.flush(299.9) == []

    def test_summary_when_window_closes(self) -> None:
        dedup = Deduplicator()
        dedup.admit(A, 0.0)
        for t in (1.0, 2.0, 3.0):
            dedup.admit(A, t)
        (summary,) = dedup.flush(300.0)
        assert summary.repeats == 3
        assert summary.window_seconds == 300.0
        assert summary.message == A.message
        assert dedup.flush(301.0) == []

    def test_no_summary_without_repeats(self) -> None:
        dedup = Deduplicator()
        dedup.admit(A, 0.0)
        assert dedup.flush(1000.0) == []

    def test_sent_again_after_window(self) -> None:
        dedup = Deduplicator()
        dedup.admit(A, 0.0)
        assert not dedup.admit(A, 100.0)
        assert dedup.admit(A, 301.0)
        (summary,) = dedup.flush(301.0)  # the closed window's count is not lost
        assert summary.repeats == 1

    def test_configurable_window(self) -> None:
        dedup = Deduplicator(window_seconds=60)
        dedup.admit(A, 0.0)
        assert dedup.admit(A, 60.0)

    def test_different_trace_is_another_alert(self) -> None:
        dedup = Deduplicator()
        dedup.admit(A, 0.0)
        assert dedup.admit(A.model_copy(update={"trace_id": "other"}), 1.0)

    def test_summaries_pass(self) -> None:
        dedup = Deduplicator()
        dedup.admit(A, 0.0)
        assert dedup.admit(A.model_copy(update={"repeats": 4}), 1.0)


class TestGrouping:
    """Alerts with one flag + rollout + rule are one group; worse ones escalate at once."""

    def rule_alert(self, trace: str, severity: Severity = Severity.ERROR) -> Alert:
        return Alert(
            severity=severity,
            message=f"error_rate 0.031 > 0.01 (trace {trace})",
            trace_id=trace,
            flag="checkout",
            rollout="r7",
            rule="error_rate",
        )

    def test_storm_becomes_one_alert_with_count(self) -> None:
        dedup = Deduplicator()
        sent = [dedup.admit(self.rule_alert(f"t{i}"), float(i)) for i in range(50)]
        assert sent.count(True) == 1
        (summary,) = dedup.flush(400.0)
        assert summary.repeats == 49
        assert summary.trace_id == "t49"

    def test_escalation_is_sent(self) -> None:
        dedup = Deduplicator()
        assert dedup.admit(self.rule_alert("t1", Severity.WARNING), 0.0)
        assert dedup.admit(self.rule_alert("t2", Severity.CRITICAL), 1.0)
        assert not dedup.admit(self.rule_alert("t3", Severity.ERROR), 2.0)

    def test_separate_group_window(self) -> None:
        dedup = Deduplicator(window_seconds=300, group_window_seconds=30)
        dedup.admit(self.rule_alert("t1"), 0.0)
        assert dedup.admit(self.rule_alert("t2"), 30.0)
