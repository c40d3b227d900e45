"""The delivery worker: dedup, route by severity, rate-limit, retry with backoff.

The worker never blocks on a backoff: a failed delivery is put back in the
queue with a later ``next_attempt_at`` (exponential, or the server's own
``retry_after`` when longer), so one slow channel never holds up the rest and
the decision loop that queued the alert is never slowed down or stopped by a
delivery failure. After ``retry.max_attempts`` failed attempts — or at once
for a permanent refusal such as a 404 — the alert is marked failed and stays
visible (``phased alerts list --failed``).

An alert routed to several channels records which ones accepted it, so a
retry only goes to those that did not.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from phased.alerts.base import Notifier
from phased.alerts.config import AlertsConfig
from phased.alerts.dedup import Deduplicator
from phased.alerts.model import Alert, Severity
from phased.alerts.queue import AlertQueue, DeliveryStatus, QueuedAlert
from phased.alerts.ratelimit import TokenBucket
from phased.alerts.registry import build_notifier
from phased.core.clock import Clock, utc_now
from phased.errors import ConfigurationError, DeliveryError, NotFoundError
from phased.obs import otel
from phased.obs.log import get_logger
from phased.obs.redact import redact_text

log = get_logger("phased.alerts")


@dataclass
class Channel:
    """A configured notifier with its routing and its rate limit."""

    notifier: Notifier
    severities: frozenset[Severity]
    bucket: TokenBucket


@dataclass
class RunReport:
    """What one pass of the worker did (ids per outcome)."""

    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    suppressed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    """Claims that expired before a post: left alone (another worker holds them)."""
    summaries_queued: int = 0

    @property
    def handled(self) -> int:
        """How many queued alerts this pass touched."""
        return sum(
            len(ids)
            for ids in (self.delivered, self.failed, self.retrying, self.suppressed, self.skipped)
        )


def check_enabled(config: AlertsConfig, *, enabled: bool) -> None:
    """Alerts on with no channel is a configuration error at start."""
    if enabled and not config.channels:
        raise ConfigurationError(
            "ENABLE_ALERTS is on but no alert channel is configured; add one under "
            "`channels:` in the alerts file (see docs/alerts.md) or turn ENABLE_ALERTS off",
            field="channels",
        )


def absolute_links(alert: Alert, base: str | None) -> Alert:
    """``alert`` with links relative to the dashboard (``/ui/...``) made absolute on ``base``."""
    if not base or not any(url.startswith("/") for url in alert.links.values()):
        return alert
    root = base.rstrip("/")
    links = {k: root + v if v.startswith("/") else v for k, v in alert.links.items()}
    return alert.model_copy(update={"links": links})


class AlertWorker:
    """Delivers queued alerts to the configured channels.

    Args:
        config: channels, windows and retry policy.
        queue: the outbox (or a :class:`~phased.alerts.queue.MemoryQueue`).
        enabled: phased's own ``ENABLE_ALERTS`` flag; off means queued alerts
            are marked skipped and nothing is sent.
        http: the client the HTTP channels post through (injected so tests
            and the server share one, with its timeouts and proxies).
        notifiers: ready-made notifiers by channel name, instead of building
            them from ``config`` (tests, embedding).
        clock: the time source (injected so tests run on a fake clock).
        name: this worker's name in claims; host and pid by default.

    Raises:
        ConfigurationError: alerts enabled without a channel, or a bad channel.
    """

    def __init__(
        self,
        config: AlertsConfig,
        queue: AlertQueue,
        *,
        enabled: bool,
        http: httpx.Client | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        clock: Clock = utc_now,
        name: str | None = None,
    ) -> None:
        check_enabled(config, enabled=enabled)
        self.config = config
        self.queue = queue
        self.enabled = enabled
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.dedup = Deduplicator(
            window_seconds=config.dedup_window_seconds,
            group_window_seconds=config.group_window,
        )
        self._http = http
        self._notifiers = dict(notifiers or {})
        self.channels: dict[str, Channel] = self._build_channels(config, {})

    def _build_channels(
        self, config: AlertsConfig, keep: Mapping[str, Channel]
    ) -> dict[str, Channel]:
        start = self.clock().timestamp()
        channels: dict[str, Channel] = {}
        for channel_name, channel in config.channels.items():
            if channel_name in keep:
                channels[channel_name] = keep[channel_name]
                continue
            if channel_name in self._notifiers:
                notifier = self._notifiers[channel_name]
            else:
                if self._http is None:
                    self._http = httpx.Client()
                notifier = build_notifier(
                    channel_name,
                    channel.kind,
                    http=self._http,
                    url=channel.url,
                    headers=channel.headers,
                    timeout=channel.timeout_seconds,
                )
            channels[channel_name] = Channel(
                notifier=notifier,
                severities=frozenset(channel.severities),
                bucket=TokenBucket(
                    rate_per_second=channel.rate_per_minute / 60.0, burst=channel.burst, now=start
                ),
            )
        return channels

    def reconfigure(self, config: AlertsConfig) -> None:
        """Follow a new configuration without losing state that still applies.

        Unchanged channels keep their notifier and rate-limit bucket (a reload
        must not reset a 429 pause); open dedup windows stay open, with the new
        window lengths applying to windows opened from now on. Raises like the
        constructor and then leaves the worker as it was.
        """
        check_enabled(config, enabled=self.enabled)
        keep = {
            name: self.channels[name]
            for name, channel in config.channels.items()
            if name in self.channels and self.config.channels.get(name) == channel
        }
        channels = self._build_channels(config, keep)
        self.dedup.window = config.dedup_window_seconds
        self.dedup.group_window = config.group_window
        self.config = config
        self.channels = channels

    def submit(self, alert: Alert) -> int:
        """Queue an alert outside any transaction (the service layer uses the outbox)."""
        return self.queue.put(alert, now=self.clock())

    def routes(self, severity: Severity) -> list[str]:
        """The channels that take alerts of this severity."""
        return [name for name, ch in self.channels.items() if severity in ch.severities]

    def run_once(self) -> RunReport:
        """Deliver every due alert once; returns what happened."""
        now = self.clock()
        report = RunReport()
        for summary in self.dedup.flush(now.timestamp()):
            self.queue.put(summary, now=now)
            report.summaries_queued += 1
        claimed = self.queue.claim(
            self.name,
            now=now,
            limit=self.config.batch_size,
            lease_seconds=self.config.lease_seconds,
        )
        for row in claimed:
            self._handle(row, now, report)
        return report

    def drain(self, max_passes: int = 100) -> RunReport:
        """Run passes until one touches nothing (alerts not yet due stay queued)."""
        total = RunReport()
        for _ in range(max_passes):
            report = self.run_once()
            for name in ("delivered", "failed", "retrying", "suppressed", "skipped"):
                getattr(total, name).extend(getattr(report, name))
            total.summaries_queued += report.summaries_queued
            if report.handled == 0 and report.summaries_queued == 0:
                break
        return total

    def run_forever(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Loop until ``stop`` is set; a failing pass is logged, never fatal."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # the loop must outlive a broken store connection
                log.exception("alert worker pass failed")
            stop.wait(poll_seconds)

    def send_test(self, channel: str, *, message: str | None = None) -> Alert:
        """Post a test alert straight to one channel (no queue, no dedup); raises on failure."""
        if channel not in self.channels:
            valid = ", ".join(sorted(self.channels)) or "none configured"
            raise NotFoundError(
                f"no alert channel named {channel!r}; configured channels: {valid}",
                field="channel",
            )
        alert = Alert(
            severity=Severity.WARNING,
            message=message or f"Test alert from phased to channel {channel}",
            root_cause="phased alerts test",
            created_at=self.clock(),
        )
        self.channels[channel].notifier.post(alert)
        return alert

    def _settle(
        self,
        row: QueuedAlert,
        status: DeliveryStatus,
        now: datetime,
        *,
        attempts: int | None = None,
        done: tuple[str, ...] | None = None,
        next_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        kept = self.queue.settle(
            row.id,
            worker=self.name,
            status=status,
            attempts=row.attempts if attempts is None else attempts,
            channels_done=row.channels_done if done is None else done,
            next_attempt_at=next_at or now,
            last_error=error,
            now=now,
        )
        if not kept:
            log.warning("alert claim lost before settling", alert_id=row.id, status=status.value)

    def _post_lease(self, name: str) -> float:
        """How long a claim must last for one post to ``name``: the lease, or longer.

        A hanging receiver holds a post for up to the channel's timeout per
        phase (connect, send, wait for the answer); the claim outlives that.
        """
        channel = self.config.channels.get(name)
        timeout = channel.timeout_seconds if channel is not None else 10.0
        return max(self.config.lease_seconds, 3 * timeout + 5.0)

    def _handle(self, row: QueuedAlert, now: datetime, report: RunReport) -> None:
        alert = row.alert
        if not self.enabled:
            self._settle(row, DeliveryStatus.SKIPPED, now, error="ENABLE_ALERTS is off")
            report.skipped.append(row.id)
            return
        first_look = row.attempts == 0 and not row.channels_done and row.last_error is None
        if first_look and not self.dedup.admit(alert, now.timestamp()):
            self._settle(row, DeliveryStatus.SUPPRESSED, now, error="duplicate within window")
            report.suppressed.append(row.id)
            return
        alert = absolute_links(alert, self.config.dashboard_url)
        targets = [c for c in self.routes(alert.severity) if c not in row.channels_done]
        if not targets and not row.channels_done:
            error = f"no channel takes severity {alert.severity.value}"
            self._settle(row, DeliveryStatus.SKIPPED, now, error=error)
            report.skipped.append(row.id)
            return
        done = list(row.channels_done)
        errors: list[str] = []
        resume_at = 0.0  # when a rate-limited or 429'd channel may be tried again
        attempted_and_failed = False
        permanent = False
        for name in targets:
            channel = self.channels[name]
            at = self.clock()
            delay = channel.bucket.take(at.timestamp())
            if delay > 0:
                resume_at = max(resume_at, at.timestamp() + delay)
                continue
            # The fence: renew the claim for as long as this post can take, or stop.
            # A claim that expired during earlier posts is never used for another.
            if not self.queue.renew(
                row.id, worker=self.name, now=at, lease_seconds=self._post_lease(name)
            ):
                log.warning(
                    "alert claim expired before posting; left to the worker that holds it",
                    alert_id=row.id,
                    channel=name,
                )
                report.lost.append(row.id)
                return
            try:
                with otel.span(
                    "alert deliver", channel=name, severity=alert.severity.value, alert_id=row.id
                ):
                    channel.notifier.post(alert)
            except DeliveryError as exc:
                attempted_and_failed = True
                permanent = permanent or exc.permanent
                errors.append(f"{name}: {exc.message}")
                if exc.retry_after is not None:
                    # From the moment the answer arrived, not from the start of the pass.
                    received = self.clock().timestamp()
                    channel.bucket.pause_until(received + exc.retry_after)
                    resume_at = max(resume_at, received + exc.retry_after)
            except Exception as exc:  # a broken notifier must not stop the worker
                attempted_and_failed = True
                errors.append(redact_text(f"{name}: {type(exc).__name__}: {exc}"))
            else:
                done.append(name)
        now = self.clock()
        error_text = "; ".join(errors) or None
        if len(done) == len(row.channels_done) + len(targets):
            self._settle(row, DeliveryStatus.DELIVERED, now, done=tuple(done), error=None)
            report.delivered.append(row.id)
            return
        attempts = row.attempts + (1 if attempted_and_failed else 0)
        if attempted_and_failed and (permanent or attempts >= self.config.retry.max_attempts):
            self._settle(
                row,
                DeliveryStatus.FAILED,
                now,
                attempts=attempts,
                done=tuple(done),
                error=error_text,
            )
            report.failed.append(row.id)
            log.error(
                "alert delivery failed for good",
                alert_id=row.id,
                attempts=attempts,
                error=error_text,
            )
            return
        backoff = self.config.retry.delay(attempts) if attempted_and_failed else 0.0
        wait = max(0.0, resume_at - now.timestamp())
        next_at = now + timedelta(seconds=max(backoff, wait))
        self._settle(
            row,
            DeliveryStatus.PENDING,
            now,
            attempts=attempts,
            done=tuple(done),
            next_at=next_at,
            error=error_text or f"rate limited; next attempt in {max(backoff, wait):.1f} s",
        )
        report.retrying.append(row.id)
