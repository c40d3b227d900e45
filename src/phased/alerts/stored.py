"""The alerts configuration stored through the API, and which configuration applies.

``PUT /api/v1/alerts/config`` (or ``phased alerts config set FILE``) keeps one
document — the same schema as the YAML file, ``${VAR}`` references and all —
in the ``alerts_config`` table with a version. Every replica's worker reads it
from there, so one change reaches all of them without a restart.

Precedence: a stored document wins over the file (``PHASED_ALERTS_CONFIG``,
``alerts.yaml`` by default); with nothing stored the file applies; with
neither, no channel. Written only through :mod:`phased.service.alerts`.

Secrets: a channel's ``url`` and its ``headers`` values are credentials (a
webhook URL is all it takes to post). Anything shown to people masks them as
``***`` + the last 4 characters, except a value that is only a ``${VAR}``
reference, which names a secret without holding it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection

from phased.alerts.config import AlertsConfig, parse_alerts_config, read_document
from phased.errors import ValidationError
from phased.obs.redact import MASK, mask, redact_secrets
from phased.store.alerts_config import read_config

Origin = Literal["api", "file", "none"]
_ONLY_VAR = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


@dataclass(frozen=True, slots=True)
class AlertsSource:
    """Where the alerts configuration in force comes from, as a document.

    ``version`` is the stored document's (0 while nothing is stored: the
    version to send with the first ``PUT``).
    """

    origin: Origin
    version: int
    document: dict[str, Any]
    path: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


def read_stored(conn: Connection) -> AlertsSource | None:
    """The stored document, or None when none was ever set."""
    stored = read_config(conn)
    if stored is None:
        return None
    return AlertsSource(
        origin="api",
        version=stored.version,
        document=stored.document,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
    )


def source_of(conn: Connection, file: Path | None) -> AlertsSource:
    """The document in force: the stored one, else the file's, else an empty one."""
    stored = read_stored(conn)
    if stored is not None:
        return stored
    if file is not None and file.exists():
        return AlertsSource(origin="file", version=0, document=read_document(file), path=str(file))
    return AlertsSource(
        origin="none", version=0, document={}, path=None if file is None else str(file)
    )


def config_of(source: AlertsSource, *, environ: Mapping[str, str] | None = None) -> AlertsConfig:
    """The validated configuration of ``source``, ``${VAR}`` expanded from ``environ``."""
    label = {"api": f"alerts config v{source.version} (stored)", "file": source.path or ""}
    return parse_alerts_config(
        source.document, environ=environ, source=label.get(source.origin, "")
    )


def effective_config(
    conn: Connection, file: Path | None, *, environ: Mapping[str, str] | None = None
) -> tuple[AlertsSource, AlertsConfig]:
    """The source in force and its validated configuration.

    Raises:
        ConfigurationError: the document is invalid here (an unknown kind, an
            unset ``${VAR}``), naming the field and where the document lives.
    """
    source = source_of(conn, file)
    return source, config_of(source, environ=environ)


# -- secrets -------------------------------------------------------------------


def _secret_paths(document: Mapping[str, Any]) -> Iterable[tuple[str, str, str | None]]:
    """(channel, field, header) for every credential in a document."""
    channels = document.get("channels")
    if not isinstance(channels, Mapping):
        return
    for name, channel in channels.items():
        if not isinstance(channel, Mapping):
            continue
        if "url" in channel:
            yield str(name), "url", None
        headers = channel.get("headers")
        if isinstance(headers, Mapping):
            for header in headers:
                yield str(name), "headers", str(header)


def _get(document: Mapping[str, Any], path: tuple[str, str, str | None]) -> Any:
    name, field, header = path
    try:
        value = document["channels"][name][field]
        return value[header] if header is not None else value
    except (KeyError, TypeError):
        return None


def _set(document: dict[str, Any], path: tuple[str, str, str | None], value: Any) -> None:
    name, field, header = path
    channel = document["channels"][name]
    if header is None:
        channel[field] = value
    else:
        channel[field][header] = value


def _copy(document: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(document)
    channels = document.get("channels")
    if isinstance(channels, Mapping):
        out["channels"] = {}
        for name, given in channels.items():
            channel = given
            if isinstance(given, Mapping):
                channel = dict(given)
                if isinstance(channel.get("headers"), Mapping):
                    channel["headers"] = dict(channel["headers"])
            out["channels"][name] = channel
    return out


def shown(value: Any) -> Any:
    """A credential as people may see it: masked, unless it is only a ``${VAR}`` reference."""
    if isinstance(value, str) and _ONLY_VAR.match(value):
        return value
    return mask(str(value)) if value is not None else None


def redact_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an alerts document with every channel url and header value masked."""
    channels = document.get("channels")
    out = _copy(redact_secrets({k: v for k, v in document.items() if k != "channels"}))
    if isinstance(channels, Mapping):
        # Channel names are the team's own words, not keys saying what a value is:
        # a channel called "token" keeps its kind readable (its secrets are masked below).
        out["channels"] = {
            name: _copy(redact_secrets(dict(ch))) if isinstance(ch, Mapping) else ch
            for name, ch in channels.items()
        }
    elif "channels" in document:
        out["channels"] = _copy(redact_secrets({"channels": channels}))["channels"]
    for path in list(_secret_paths(out)):
        _set(out, path, shown(_get(document, path)))
    return out


def restore_masked(document: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with masked values put back from ``previous`` (a shown-then-edited copy).

    A value starting with ``***`` that equals the mask of the same channel's
    same field in ``previous`` is the unchanged secret; any other masked value
    is refused, so a redacted copy never overwrites a real secret.

    Raises:
        ValidationError: a masked value that matches no stored secret.
    """
    out = _copy(document)
    for path in list(_secret_paths(out)):
        value = _get(out, path)
        if not (isinstance(value, str) and value.startswith(MASK)):
            continue
        before = _get(previous, path)
        if isinstance(before, str) and value in (shown(before), mask(before)):
            _set(out, path, before)
            continue
        name, field, header = path
        where = f"channels.{name}.{field}" + (f".{header}" if header else "")
        raise ValidationError(
            f"{where}: {value!r} is a redacted value that matches no stored secret of channel "
            f"{name!r}; give the full value",
            field=where,
        )
    return out


def secrets_in(config: AlertsConfig) -> list[str]:
    """Every credential of a validated (expanded) config, longest first."""
    found: set[str] = set()
    for channel in config.channels.values():
        if channel.url:
            found.add(channel.url)
        found.update(channel.headers.values())
    return sorted((s for s in found if len(s) > 4), key=len, reverse=True)


def mask_known(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with each known secret masked (a generic webhook URL looks like any URL)."""
    if text is None:
        return None
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, mask(secret))
    return text


def mask_known_in(data: Any, secrets: list[str]) -> Any:
    """:func:`mask_known` on every string of a JSON-like value."""
    if isinstance(data, str):
        return mask_known(data, secrets)
    if isinstance(data, Mapping):
        return {k: mask_known_in(v, secrets) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_known_in(v, secrets) for v in data]
    return data
