"""Alerts as people see them: the outbox, the channel configuration, a test send.

Everything returned here is redacted: a channel's webhook URL and header
values are credentials, so they are masked (``***`` + the last 4 characters)
in the configuration, in delivery errors and in alert texts, on top of the
usual by-key and by-value redaction (:mod:`phased.obs.redact`).

The configuration set here is stored (``alerts_config``) and wins over the
alerts file; every replica's worker follows it (:mod:`phased.alerts.live`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection

from phased.alerts.config import AlertsConfig, parse_alerts_config
from phased.alerts.queue import MemoryQueue
from phased.alerts.stored import (
    AlertsSource,
    config_of,
    mask_known,
    mask_known_in,
    read_stored,
    redact_document,
    restore_masked,
    secrets_in,
    source_of,
)
from phased.alerts.worker import AlertWorker, check_enabled
from phased.core.alerts import Alert, Severity
from phased.core.clock import utc_now
from phased.errors import ConfigurationError, DeliveryError, NotFoundError, ValidationError
from phased.obs.redact import redact_secrets, redact_text
from phased.service.base import check_version, mutation
from phased.store.alert_queue import DeliveryStatus, QueuedAlert
from phased.store.alerts_config import write_config
from phased.store.engine import Store
from phased.store.outbox import Outbox, enqueue

MAX_LIMIT = 1000
TEST_TIMEOUT_SECONDS = 10.0
"""A test send answers the person waiting for it within this, whatever the channel's timeout."""
_SEGMENT = re.compile(r"(?:^|; )([A-Za-z0-9_.\-]+): (.*?)(?=; [A-Za-z0-9_.\-]+: |$)", re.S)


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """How one channel took a queued alert."""

    channel: str
    status: str  # "delivered", or "failed" with the channel's last error
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertsSettings:
    """The alerts configuration in force, redacted, and where it comes from."""

    origin: str  # "api" (stored; wins), "file", or "none"
    version: int  # the stored version; 0 while nothing is stored
    document: dict[str, Any]
    path: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TestResult:
    """What a test send did: delivered, or the channel's error."""

    channel: str
    kind: str
    delivered: bool
    alert: Alert
    error: str | None = None
    field: str | None = None


def channel_results(row: QueuedAlert) -> list[ChannelResult]:
    """Each channel's part: the ones that accepted it, then the ones whose last attempt failed."""
    results = [ChannelResult(name, "delivered") for name in row.channels_done]
    if row.status is DeliveryStatus.DELIVERED or not row.last_error:
        return results
    for match in _SEGMENT.finditer(row.last_error):
        name, error = match.group(1), match.group(2)
        if name not in row.channels_done:
            results.append(ChannelResult(name, "failed", error))
    return results


# -- the outbox ------------------------------------------------------------------


def outbox(store: Store) -> Outbox:
    """The store's durable alert queue, for the processes that run an alert worker over it.

    Reading it for people goes through :func:`list_alerts` and :func:`get_alert`,
    which mask secrets.
    """
    return Outbox(store.engine)


def _known_secrets(conn: Connection, file: Path | None) -> list[str]:
    try:
        return secrets_in(config_of(source_of(conn, file)))
    except (ConfigurationError, ValidationError):
        return []  # a broken config must not hide the outbox; by-value redaction still runs


def _redacted_alert(alert: Alert, secrets: list[str]) -> Alert:
    document = mask_known_in(redact_secrets(alert.model_dump(mode="json")), secrets)
    return Alert.model_validate(document)


def _redacted(row: QueuedAlert, secrets: list[str]) -> QueuedAlert:
    error = row.last_error
    return replace(
        row,
        alert=_redacted_alert(row.alert, secrets),
        last_error=None if error is None else mask_known(redact_text(error), secrets),
    )


def list_alerts(
    store: Store,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    file: Path | None = None,
) -> list[QueuedAlert]:
    """Queued and sent alerts, newest first, redacted.

    Args:
        status: only alerts in this status (``failed`` for ``--failed``).
        limit: at most this many (1 to 1,000).
        file: the alerts file, whose secrets are masked too while nothing is stored.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"must be between 1 and {MAX_LIMIT} (got {limit})", field="limit")
    rows = Outbox(store.engine).list(status=status, limit=limit)
    with store.read() as conn:
        secrets = _known_secrets(conn, file)
    return [_redacted(r, secrets) for r in rows]


def raise_alert(store: Store, alert: Alert) -> None:
    """Queue one alert for the channels (the worker delivers it, deduplicated)."""
    with store.write() as conn:
        enqueue(conn, alert, now=store.clock())


def status_counts(store: Store) -> dict[str, int]:
    """How many alerts are in each delivery status (every status, zeros included)."""
    return Outbox(store.engine).counts()


def get_alert(store: Store, alert_id: int, *, file: Path | None = None) -> QueuedAlert:
    """One queued alert, redacted.

    Raises:
        NotFoundError: no alert with this id.
    """
    found = Outbox(store.engine).get(alert_id)
    if found is None:
        raise NotFoundError(
            f"no alert #{alert_id}; `phased alerts list` shows the outbox", field="id"
        )
    with store.read() as conn:
        secrets = _known_secrets(conn, file)
    return _redacted(found, secrets)


# -- the configuration -------------------------------------------------------------


def _settings(source: AlertsSource) -> AlertsSettings:
    return AlertsSettings(
        origin=source.origin,
        version=source.version,
        document=redact_document(source.document),
        path=source.path,
        updated_by=source.updated_by,
        updated_at=source.updated_at,
    )


def get_config(store: Store, *, file: Path | None = None) -> AlertsSettings:
    """The configuration in force (stored, else the file's), secrets masked."""
    with store.read() as conn:
        return _settings(source_of(conn, file))


def set_config(
    store: Store,
    *,
    actor: str | None,
    document: Mapping[str, Any],
    version: int | None,
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    require_channels: bool = False,
) -> AlertsSettings:
    """Store a new alerts configuration (audited as ``alerts.config``, redacted).

    Args:
        document: the same schema as the alerts file; ``${VAR}`` references are
            kept and expanded where a worker loads it.
        version: the stored version the change is based on (0 when none is
            stored yet; None skips the check).
        file: the alerts file, for masked values copied from it.
        environ: where ``${VAR}`` is checked (the process environment by default).
        require_channels: refuse a document without channels (ENABLE_ALERTS is on).

    Raises:
        ValidationError: the document is invalid, or holds a masked value that
            matches no stored secret.
        ConflictError: the stored version is not ``version``.
    """
    if not isinstance(document, Mapping):
        raise ValidationError("must be a mapping with a `channels:` key", field="config")
    with mutation(store, actor) as m:
        try:
            current = source_of(m.conn, file)
        except ConfigurationError:
            # A broken file must not block storing the configuration that replaces it.
            current = AlertsSource(origin="none", version=0, document={})
        check_version(current.version, version, "the alerts config")
        new = restore_masked(document, current.document)
        try:
            config = parse_alerts_config(new, environ=environ)
            check_enabled(config, enabled=require_channels)
        except ConfigurationError as exc:
            raise ValidationError(exc.message, field=exc.field) from None
        after_version = current.version + 1 if current.origin == "api" else 1
        write_config(
            m.conn, version=after_version, document=new, updated_by=m.actor, updated_at=m.now
        )
        m.record(
            "alerts.config",
            "alerts:config",
            {
                "version": after_version,
                "channels": sorted(config.channels),
                "before": redact_document(current.document) if current.origin == "api" else None,
                "before_origin": current.origin,
                "after": redact_document(new),
            },
        )
        stored = read_stored(m.conn)
    assert stored is not None
    return _settings(stored)


# -- a test send ------------------------------------------------------------------


def send_test(
    store: Store | None,
    *,
    channel: str,
    message: str | None = None,
    file: Path | None = None,
    config: AlertsConfig | None = None,
) -> TestResult:
    """Post a test alert to one channel now, even while ENABLE_ALERTS is off.

    Args:
        channel: the channel's name in the configuration in force.
        config: use this configuration instead (``alerts test --config FILE``);
            ``store`` may then be None.

    Raises:
        NotFoundError: no channel by that name.
        ValidationError: the configuration in force cannot be used here.
    """
    if config is None:
        if store is None:
            raise ValidationError("give a store or a configuration", field="config")
        try:
            with store.read() as conn:
                source = source_of(conn, file)
            config = config_of(source)
        except ConfigurationError as exc:
            raise ValidationError(exc.message, field=exc.field) from None
    if channel not in config.channels:
        valid = ", ".join(sorted(config.channels)) or "none configured"
        raise NotFoundError(
            f"no alert channel named {channel!r}; configured channels: {valid}", field="channel"
        )
    # Only the channel under test is built: another channel's broken entry is not this one's.
    settings = config.channels[channel]
    only = config.model_copy(update={"channels": {channel: settings}})
    secrets = secrets_in(only)
    alert = Alert(
        severity=Severity.WARNING,
        message=message or f"Test alert from phased to channel {channel}",
        root_cause="phased alerts test",
        created_at=store.clock() if store is not None else utc_now(),
    )
    timeout = min(settings.timeout_seconds, TEST_TIMEOUT_SECONDS)
    error: str | None = None
    with httpx.Client(timeout=timeout) as http:
        worker = AlertWorker(only, MemoryQueue(), enabled=False, http=http)
        try:
            worker.channels[channel].notifier.post(alert)
        except DeliveryError as exc:
            error = exc.message
        except Exception as exc:  # a URL httpx cannot even parse is a failed delivery too
            error = f"{type(exc).__name__}: {exc}"
    return TestResult(
        channel=channel,
        kind=settings.kind,
        delivered=error is None,
        alert=_redacted_alert(alert, secrets),  # the response never echoes a secret
        error=None if error is None else mask_known(redact_text(error), secrets),
        field=None if error is None else f"channels.{channel}",
    )
