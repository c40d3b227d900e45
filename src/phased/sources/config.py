"""Metric sources, defined once: ``sources.yaml`` (``PHASED_SOURCES_CONFIG``).

Addresses, credentials (headers) and time-outs live here, never in a plan;
``${NAME}`` in a string is replaced by the environment variable ``NAME`` so
tokens stay out of the file too. See docs/sources.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from phased.core.config_text import parse_mapping, validate_config
from phased.errors import ConfigurationError
from phased.obs.redact import redact_secrets

RESERVED = "sdk"
"""The built-in source (the SDK's outcomes, judged statistically); not configurable."""


class SourceConfig(BaseModel):
    """One source: its kind, where it is, how to authenticate, how long to wait."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    address: str | None = Field(default=None, description="Base URL (prometheus, web).")
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every query.")
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    arms: dict[str, str] = Field(
        default_factory=dict,
        description="What {{arm}} becomes per arm, e.g. {candidate: canary, control: primary}.",
    )
    # prometheus
    query_type: Literal["instant", "range"] = "instant"
    step_seconds: float = Field(default=60.0, gt=0, description="Range queries: the step.")
    reduce: Literal["avg", "max", "min", "last"] = Field(
        default="avg", description="Range queries: how the series becomes one number."
    )
    # web
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(default="", description="web POST: the path the query body goes to.")
    jsonpath: str | None = Field(default=None, description="web: the default JSONPath.")

    @field_validator("address")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value is not None else None

    def public(self) -> dict[str, Any]:
        """The definition with credentials masked (for `phased sources list`, the API, logs)."""
        out: dict[str, Any] = redact_secrets(self.model_dump(mode="json"))
        out["headers"] = dict.fromkeys(self.headers, "***")
        return out


class SourcesConfig(BaseModel):
    """Every configured metric source, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceConfig] = Field(default_factory=dict)

    @property
    def names(self) -> frozenset[str]:
        """The names a plan may use in ``source:`` (besides ``sdk``)."""
        return frozenset(self.sources)

    def check(self) -> SourcesConfig:
        """Refuse unknown kinds, the reserved name, and HTTP sources without an address."""
        from phased.sources.registry import NEEDS_ADDRESS, check_kind

        for name, source in self.sources.items():
            if name == RESERVED:
                raise ConfigurationError(
                    f"{RESERVED!r} is the built-in source (the SDK's outcomes); pick another "
                    "name, e.g. outcomes-1h with kind: sdk",
                    field=f"sources.{name}",
                )
            check_kind(source.kind, field=f"sources.{name}.kind")
            if source.kind in NEEDS_ADDRESS and not source.address:
                raise ConfigurationError(
                    f"a {source.kind} source needs an address (its base URL); add `address:`",
                    field=f"sources.{name}.address",
                )
        return self


def parse_sources_config(
    data: Mapping[str, Any] | None, *, environ: Mapping[str, str] | None = None, source: str = ""
) -> SourcesConfig:
    """Validate a mapping (the parsed YAML) into a :class:`SourcesConfig`.

    Raises:
        ConfigurationError: naming the field, the value (redacted) and the fix.
    """
    env = os.environ if environ is None else environ
    return validate_config(
        SourcesConfig, SourcesConfig.check, data, env, source=source, secret=("headers",)
    )


def load_sources_config(
    path: str | Path, *, environ: Mapping[str, str] | None = None, missing_ok: bool = True
) -> SourcesConfig:
    """Read and validate a sources YAML file (a missing file is no sources unless refused)."""
    file = Path(path)
    if missing_ok and not file.exists():
        return SourcesConfig()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read sources config {file}: {exc.strerror}; check the path", field="sources"
        ) from None
    data = parse_mapping(text, str(file), key="sources", field="sources")
    return parse_sources_config(data, environ=environ, source=str(file))
