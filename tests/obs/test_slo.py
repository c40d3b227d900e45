"""SLO hooks: breach callbacks, history, and seed 003's suggested actions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from phased.errors import NotFoundError
from phased.obs import configure_logging, slo
from phased.obs.slo import Breach, Slo, SloMonitor, suggested_actions
from phased.settings import Settings

T0 = datetime(2025, 10, 16, 18, tzinfo=UTC)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(Settings(), stream=out)
    yield out
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)


class TestSuggestedActions:
    """Latency, retry-rate and fallback-rate breaches carry seed 003's actions word for word."""

    @pytest.mark.parametrize(
        ("metric", "line"),
        [
            ("latency_p95_ms", "Investigate model provider, check bundle size, reduce rollout"),
            ("retry_rate", "Review validator rules, check model quality, adjust temperature"),
            (
                "fallback_rate",
                "Investigate validation failures, check model health, reduce rollout",
            ),
        ],
    )
    def test_seed_lines(self, metric: str, line: str) -> None:
        breach = Breach("x", metric, 2.0, 1.0, ts=T0)
        assert breach.suggestion == line

    def test_other_metrics_have_none(self) -> None:
        assert suggested_actions("error_rate") == ()


class TestMonitor:
    """Recording values keeps history, detects breaches and calls every subscriber."""

    def test_seed_defaults(self) -> None:
        thresholds = {s.name: s.threshold for s in SloMonitor().slos}
        assert thresholds == {
            "turn_latency_p95": 8000.0,
            "invalid_retry_rate": 0.05,
            "fallback_rate": 0.01,
        }

    def test_breach_calls_back(self) -> None:
        monitor = SloMonitor(clock=lambda: T0)
        seen: list[Breach] = []
        monitor.on_breach(seen.append)
        assert monitor.record("turn_latency_p95", 7999.0) is None
        breach = monitor.record("turn_latency_p95", 9100.0, flag="awf", stage="canary-5")
        assert seen == [breach]
        assert breach is not None
        assert breach.reason == "turn_latency_p95 9100 > 8000 (stage canary-5)"
        assert (breach.flag, breach.stage, breach.ts) == ("awf", "canary-5", T0)

    def test_at_threshold_is_not_a_breach(self) -> None:
        assert SloMonitor().record("fallback_rate", 0.01) is None

    def test_history_and_status(self) -> None:
        monitor = SloMonitor(history=3, clock=lambda: T0)
        for value in (0.01, 0.02, 0.09, 0.04, 0.07):
            monitor.record("invalid_retry_rate", value)
        assert [s.value for s in monitor.history("invalid_retry_rate")] == [0.09, 0.04, 0.07]
        status = {s.slo.name: s for s in monitor.status()}
        retry = status["invalid_retry_rate"]
        assert not retry.healthy
        assert retry.breaches == 2
        assert retry.suggested_actions[0] == "Review validator rules"
        assert status["fallback_rate"].healthy
        assert status["fallback_rate"].suggested_actions == ()

    def test_failing_callback_does_not_stop_others(self) -> None:
        monitor = SloMonitor()
        seen: list[str] = []

        def broken(_: Breach) -> None:
            raise RuntimeError("boom")

        monitor.on_breach(broken)
        monitor.on_breach(lambda b: seen.append(b.slo))
        monitor.record("fallback_rate", 0.5)
        assert seen == ["fallback_rate"]

    def test_remove_callback(self) -> None:
        monitor = SloMonitor()
        seen: list[Breach] = []
        monitor.on_breach(seen.append)
        monitor.remove_callback(seen.append)
        monitor.record("fallback_rate", 0.5)
        assert seen == []

    def test_unknown_slo(self) -> None:
        with pytest.raises(NotFoundError, match="known SLOs: fallback_rate"):
            SloMonitor().record("nope", 1.0)

    def test_report_external_breach(self) -> None:
        monitor = SloMonitor(slos=[])
        seen: list[Breach] = []
        monitor.on_breach(seen.append)
        breach = Breach("gate:error_rate", "error_rate", 0.031, 0.01, "checkout", "canary-5", T0)
        monitor.report(breach)
        assert seen == [breach]
        assert monitor.history("gate:error_rate")[0].breached

    def test_custom_slo(self) -> None:
        monitor = SloMonitor(slos=[Slo("p99", "latency_p99_ms", 500.0)])
        breach = monitor.record("p99", 900.0)
        assert breach is not None
        assert breach.suggested_actions[0] == "Investigate model provider"


class TestWarningLog:
    """A breach is logged at warn with the value, threshold and suggested actions."""

    def test_logged(self, logs: io.StringIO) -> None:
        SloMonitor().record("turn_latency_p95", 9100.0, stage="canary-5")
        line = json.loads(logs.getvalue())
        assert line["level"] == "warn"
        assert line["value"] == 9100.0
        assert line["threshold"] == 8000.0
        assert line["suggested_actions"].startswith("Investigate model provider")


class TestModuleHooks:
    """The module-level on_breach/record use one process-wide monitor."""

    def test_process_wide(self) -> None:
        seen: list[Breach] = []
        callback = slo.on_breach(seen.append)
        try:
            slo.record("fallback_rate", 0.2)
        finally:
            slo.get_slo_monitor().remove_callback(callback)
        assert [b.slo for b in seen] == ["fallback_rate"]


class TestOldName:
    """``phased.slo`` (its place before it joined ``phased.obs``) is still this same module."""

    def test_both_imports(self) -> None:
        import phased.slo

        from phased import slo as old

        assert old is phased.slo is slo
        assert phased.slo.SloMonitor is SloMonitor
