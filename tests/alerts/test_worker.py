"""The delivery worker against a real receiver: routing, dedup, rate limit, retries, failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phased.alerts import (
    Alert,
    AlertWorker,
    DeliveryStatus,
    MemoryQueue,
    Severity,
    parse_alerts_config,
)
from phased.errors import NotFoundError

from .conftest import FakeClock, Receiver, Reply

CRIT = Alert(severity=Severity.CRITICAL, message="rollback of checkout", trace_id="t1")
WARN = Alert(severity=Severity.WARNING, message="p95 creeping up", trace_id="t2")


def make_worker(
    receiver: Receiver,
    http: httpx.Client,
    clock: FakeClock,
    *,
    channels: dict[str, dict[str, Any]] | None = None,
    enabled: bool = True,
    **options: Any,
) -> AlertWorker:
    config = parse_alerts_config(
        {
            "channels": channels
            or {"ops": {"kind": "discord", "url": receiver.url("/ops"), "timeout_seconds": 0.3}},
            "retry": {"max_attempts": 4, "base_delay_seconds": 2, "max_delay_seconds": 60},
            **options,
        }
    )
    return AlertWorker(config, MemoryQueue(), enabled=enabled, http=http, clock=clock)


def status_of(worker: AlertWorker, alert_id: int) -> DeliveryStatus:
    return next(r.status for r in worker.queue.list() if r.id == alert_id)


class TestRouting:
    """Each alert goes to the channels that take its severity."""

    def test_by_severity(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        receiver.default = Reply(200, "ok")
        worker = make_worker(
            receiver,
            http,
            clock,
            channels={
                "pager": {
                    "kind": "webhook",
                    "url": receiver.url("/pager"),
                    "severities": ["critical"],
                },
                "team": {"kind": "slack", "url": receiver.url("/team")},
            },
        )
        worker.submit(CRIT)
        worker.submit(WARN)
        report = worker.run_once()
        assert len(report.delivered) == 2
        assert [p.body["message"] for p in receiver.to("/pager")] == ["rollback of checkout"]
        assert len(receiver.to("/team")) == 2

    def test_no_channel_for_severity(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        worker = make_worker(
            receiver,
            http,
            clock,
            channels={
                "pager": {"kind": "discord", "url": receiver.url("/p"), "severities": ["critical"]}
            },
        )
        alert_id = worker.submit(WARN)
        assert worker.run_once().skipped == [alert_id]
        assert worker.queue.list()[0].last_error == "no channel takes severity warning"

    def test_disabled_sends_nothing(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        worker = make_worker(receiver, http, clock, enabled=False)
        alert_id = worker.submit(CRIT)
        assert worker.run_once().skipped == [alert_id]
        assert receiver.posts == []
        assert worker.queue.list()[0].last_error == "ENABLE_ALERTS is off"


class TestDedupInWorker:
    """Duplicates inside the window are suppressed; the count is delivered when it closes."""

    def test_window(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        worker = make_worker(receiver, http, clock)
        first = worker.submit(CRIT)
        worker.run_once()
        dupes = []
        for _ in range(3):
            clock.advance(60)
            dupes.append(worker.submit(CRIT))
            worker.run_once()
        assert len(receiver.to("/ops")) == 1
        assert all(status_of(worker, d) is DeliveryStatus.SUPPRESSED for d in dupes)
        clock.advance(121)  # 301 s after the first
        report = worker.drain()
        assert report.summaries_queued == 1
        assert status_of(worker, first) is DeliveryStatus.DELIVERED
        last = receiver.to("/ops")[-1].body["content"]
        assert last.startswith("🔴 CRITICAL ALERT (repeated 3×)")
        assert "Repeated 3 more times within 300 s" in last
        clock.advance(1)
        worker.submit(CRIT)
        worker.run_once()
        assert len(receiver.to("/ops")) == 3  # a new window: sent again


class TestRetries:
    """Failures are retried with exponential backoff and end visibly failed."""

    def test_500_then_success(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        receiver.script("/ops", Reply(500), Reply(502))
        worker = make_worker(receiver, http, clock)
        alert_id = worker.submit(CRIT)
        assert worker.run_once().retrying == [alert_id]
        assert worker.run_once().handled == 0  # not due before the backoff
        clock.advance(2)
        assert worker.run_once().retrying == [alert_id]
        clock.advance(3.9)
        assert worker.run_once().handled == 0  # second backoff is 4 s
        clock.advance(0.1)
        assert worker.run_once().delivered == [alert_id]
        assert len(receiver.to("/ops")) == 3

    def test_exhausted_is_failed_and_visible(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        receiver.default = Reply(500, {"error": "down"})
        worker = make_worker(receiver, http, clock)
        alert_id = worker.submit(CRIT)
        for delay in (0, 2, 4, 8):
            clock.advance(delay)
            worker.run_once()
        assert len(receiver.to("/ops")) == 4
        (failed,) = worker.queue.list(status=DeliveryStatus.FAILED)
        assert failed.id == alert_id
        assert failed.attempts == 4
        assert failed.last_error is not None
        assert "answered 500" in failed.last_error
        clock.advance(1000)
        worker.run_once()
        assert len(receiver.to("/ops")) == 4

    def test_permanent_refusal_fails_at_once(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        receiver.script("/ops", Reply(404, {"message": "Unknown Webhook"}))
        worker = make_worker(receiver, http, clock)
        alert_id = worker.submit(CRIT)
        assert worker.run_once().failed == [alert_id]

    def test_hang_is_retried(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        receiver.script("/ops", Reply(hang=True))
        worker = make_worker(receiver, http, clock)
        alert_id = worker.submit(CRIT)
        assert worker.run_once().retrying == [alert_id]
        clock.advance(2)
        assert worker.run_once().delivered == [alert_id]

    def test_only_failed_channels_are_retried(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        receiver.script("/b", Reply(500))
        worker = make_worker(
            receiver,
            http,
            clock,
            channels={
                "a": {"kind": "discord", "url": receiver.url("/a")},
                "b": {"kind": "discord", "url": receiver.url("/b")},
            },
        )
        alert_id = worker.submit(CRIT)
        worker.run_once()
        clock.advance(2)
        assert worker.run_once().delivered == [alert_id]
        assert (len(receiver.to("/a")), len(receiver.to("/b"))) == (1, 2)
        assert worker.queue.list()[0].channels_done == ("a", "b")

    def test_broken_notifier_does_not_stop_the_worker(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        class Broken:
            kind = "broken"
            name = "ops"

            def post(self, alert: Alert) -> None:
                raise RuntimeError("bug with token=ghp_" + "z" * 36)

        config = parse_alerts_config({"channels": {"ops": {"kind": "log"}}})
        worker = AlertWorker(
            config, MemoryQueue(), enabled=True, notifiers={"ops": Broken()}, clock=clock
        )
        alert_id = worker.submit(CRIT)
        assert worker.run_once().retrying == [alert_id]
        error = worker.queue.list()[0].last_error or ""
        assert "RuntimeError" in error
        assert "z" * 36 not in error


class TestRateLimit:
    """The token bucket spaces deliveries; a 429's retry_after pauses the channel."""

    def test_bucket(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        worker = make_worker(
            receiver,
            http,
            clock,
            channels={
                "ops": {
                    "kind": "discord",
                    "url": receiver.url("/ops"),
                    "rate_per_minute": 6,
                    "burst": 2,
                }
            },
            dedup_window_seconds=0,
        )
        ids = [worker.submit(CRIT.model_copy(update={"trace_id": f"t{i}"})) for i in range(4)]
        report = worker.run_once()
        assert report.delivered == ids[:2]
        assert report.retrying == ids[2:]
        assert worker.queue.list()[0].attempts == 0  # waiting for a token is not a failed attempt
        clock.advance(10)
        assert worker.run_once().delivered == [ids[2]]
        clock.advance(10)
        assert worker.run_once().delivered == [ids[3]]
        assert len(receiver.to("/ops")) == 4

    def test_discord_429(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        receiver.script("/ops", Reply(429, {"retry_after": 12.5, "global": False}))
        worker = make_worker(receiver, http, clock, dedup_window_seconds=0)
        first = worker.submit(CRIT)
        second = worker.submit(WARN)
        report = worker.run_once()
        assert report.retrying == [first, second]  # the channel is paused for the second too
        assert len(receiver.to("/ops")) == 1
        clock.advance(12)
        assert worker.run_once().handled == 0
        clock.advance(0.5)
        assert worker.run_once().delivered == [first]  # one request when Discord allows it
        clock.advance(2)  # then the configured rate (30/min) again
        assert worker.run_once().delivered == [second]

    def test_slack_429(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        receiver.script("/s", Reply(429, {"ok": False}, headers={"Retry-After": "30"}))
        receiver.default = Reply(200, "ok")
        worker = make_worker(
            receiver, http, clock, channels={"s": {"kind": "slack", "url": receiver.url("/s")}}
        )
        alert_id = worker.submit(CRIT)
        worker.run_once()
        clock.advance(29)
        assert worker.run_once().handled == 0
        clock.advance(1)
        assert worker.run_once().delivered == [alert_id]


class TestSendTest:
    """`alerts test` posts straight to one channel and names the valid ones otherwise."""

    def test_send(self, receiver: Receiver, http: httpx.Client, clock: FakeClock) -> None:
        worker = make_worker(receiver, http, clock)
        worker.send_test("ops")
        assert "Test alert from phased" in receiver.to("/ops")[0].body["content"]

    def test_unknown_channel(
        self, receiver: Receiver, http: httpx.Client, clock: FakeClock
    ) -> None:
        worker = make_worker(receiver, http, clock)
        with pytest.raises(NotFoundError, match="configured channels: ops"):
            worker.send_test("nope")
