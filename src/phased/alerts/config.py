"""Alert configuration: channels, routing, windows and retries, from a YAML file.

See docs/alerts.md for the format. ``${NAME}`` in a string value is replaced
by the environment variable ``NAME`` so webhook URLs and tokens stay out of
the file; a missing variable is a configuration error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from phased.alerts.model import Severity
from phased.alerts.registry import NEEDS_URL, check_kind
from phased.core.config_text import parse_mapping, validate_config
from phased.errors import ConfigurationError


class ChannelConfig(BaseModel):
    """One channel: where alerts go, which severities, how fast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    severities: tuple[Severity, ...] = tuple(Severity)
    rate_per_minute: float = Field(default=30.0, gt=0)
    burst: int = Field(default=5, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local receiver)")
        return value


class RetryConfig(BaseModel):
    """How often and how patiently a failing delivery is retried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=6, ge=1)
    base_delay_seconds: float = Field(default=2.0, gt=0)
    max_delay_seconds: float = Field(default=300.0, gt=0)

    def delay(self, attempts: int) -> float:
        """Exponential backoff after ``attempts`` failed attempts: base, 2·base, 4·base, …"""
        return float(
            min(self.max_delay_seconds, self.base_delay_seconds * 2 ** max(0, attempts - 1))
        )


class AlertsConfig(BaseModel):
    """Everything the alert worker needs besides ENABLE_ALERTS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    dedup_window_seconds: float = Field(default=300.0, ge=0)
    group_window_seconds: float | None = Field(
        default=None, ge=0, description="Defaults to dedup_window_seconds."
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)
    lease_seconds: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=50, ge=1)
    dashboard_url: str | None = Field(
        default=None,
        description=(
            "The dashboard's base URL (https://phased.example.com): links in alerts such as "
            "/ui/rollouts/KEY become absolute, so a chat message links to the page."
        ),
    )

    @property
    def group_window(self) -> float:
        """The grouping window in seconds."""
        if self.group_window_seconds is None:
            return self.dedup_window_seconds
        return self.group_window_seconds

    def check(self) -> AlertsConfig:
        """Refuse unknown kinds and HTTP channels without a url."""
        for name, channel in self.channels.items():
            check_kind(channel.kind, field=f"channels.{name}.kind")
            if channel.kind in NEEDS_URL and not channel.url:
                raise ConfigurationError(
                    f"a {channel.kind} channel needs a url (the webhook address); add `url:`",
                    field=f"channels.{name}.url",
                )
        return self


def parse_alerts_config(
    data: Mapping[str, Any] | None, *, environ: Mapping[str, str] | None = None, source: str = ""
) -> AlertsConfig:
    """Validate a mapping (the parsed YAML) into an :class:`AlertsConfig`.

    Raises:
        ConfigurationError: naming the field, the value and the fix.
    """
    env = os.environ if environ is None else environ
    return validate_config(AlertsConfig, AlertsConfig.check, data, env, source=source)


def load_alerts_config(
    path: str | Path, *, environ: Mapping[str, str] | None = None
) -> AlertsConfig:
    """Read and validate an alerts YAML file."""
    file = Path(path)
    return parse_alerts_config(read_document(file), environ=environ, source=str(file))


def read_document(file: Path) -> dict[str, Any]:
    """An alerts YAML file as a mapping, unvalidated (``${VAR}`` references kept).

    Raises:
        ConfigurationError: the file cannot be read, is not YAML or not a mapping.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read alerts config {file}: {exc.strerror}; check the path", field="alerts"
        ) from None
    return dict(parse_mapping(text, str(file), key="channels", field="alerts") or {})
