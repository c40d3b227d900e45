"""Alerts: deduplicated, rate-limited messages to Discord, Slack, webhooks or the log.

See docs/alerts.md. The pieces: :class:`Alert` (what), a
:class:`Notifier` per channel kind (where), :class:`AlertsConfig` (routing,
windows, retries, from YAML), a queue (the durable outbox, or in memory) and
the :class:`AlertWorker` that delivers.
"""

from __future__ import annotations

from phased.alerts.base import Notifier
from phased.alerts.config import (
    AlertsConfig,
    ChannelConfig,
    RetryConfig,
    load_alerts_config,
    parse_alerts_config,
)
from phased.alerts.dedup import Deduplicator
from phased.alerts.model import Alert, Severity
from phased.alerts.queue import AlertQueue, DeliveryStatus, MemoryQueue, QueuedAlert
from phased.alerts.ratelimit import TokenBucket
from phased.alerts.registry import NOTIFIER_KINDS, build_notifier
from phased.alerts.worker import AlertWorker, RunReport, check_enabled
from phased.errors import DeliveryError

__all__ = [
    "NOTIFIER_KINDS",
    "Alert",
    "AlertQueue",
    "AlertWorker",
    "AlertsConfig",
    "ChannelConfig",
    "Deduplicator",
    "DeliveryError",
    "DeliveryStatus",
    "MemoryQueue",
    "Notifier",
    "QueuedAlert",
    "RetryConfig",
    "RunReport",
    "Severity",
    "TokenBucket",
    "build_notifier",
    "check_enabled",
    "load_alerts_config",
    "parse_alerts_config",
]
