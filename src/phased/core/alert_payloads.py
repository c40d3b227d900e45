"""Inbound alerts: Alertmanager's webhook, Grafana's, or plain JSON, read into one shape.

Pure: takes the parsed JSON body, returns :class:`InboundAlert` values or
raises ``ValidationError`` naming the field. The formats:

* **Alertmanager** (webhook ``version: "4"``): ``{"status", "groupLabels",
  "commonLabels", "alerts": [{"status", "labels", "annotations", "startsAt",
  "fingerprint", ...}]}``; each alert of the group counts on its own.
* **Grafana** unified alerting: the same shape plus ``title``/``state``/
  ``message`` (alerts carry ``valueString``); Grafana's legacy webhook:
  ``{"ruleName", "state": "alerting" | "ok" | "no_data", "title", "message", "tags"}``.
* **plain JSON**: ``{"status": "firing" | "resolved", "name": "...",
  "labels": {...}, "summary": "..."}`` (``status`` defaults to firing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from phased.errors import ValidationError

Status = Literal["firing", "resolved"]
MAX_ALERTS = 500
_LEGACY_GRAFANA_STATES: Mapping[str, Status] = {
    "alerting": "firing",
    "no_data": "firing",
    "ok": "resolved",
    "paused": "resolved",
    "pending": "resolved",
}


@dataclass(frozen=True, slots=True)
class InboundAlert:
    """One alert as phased reads it, whatever system sent it."""

    status: Status
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    fingerprint: str = ""
    format: str = "plain"

    def matches(self, wanted: Mapping[str, str]) -> bool:
        """Whether every label in ``wanted`` is on the alert with the same value."""
        return all(self.labels.get(k) == v for k, v in wanted.items())


def _labels(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must be an object of labels (got {type(value).__name__})", field=where
        )
    return {str(k): str(v) for k, v in value.items()}


def _status(value: object, where: str) -> Status:
    if value in ("firing", "resolved"):
        return value
    raise ValidationError(f"must be firing or resolved (got {value!r})", field=where)


def _summary(annotations: Mapping[str, Any]) -> str:
    for key in ("summary", "description", "message"):
        if annotations.get(key):
            return str(annotations[key])[:500]
    return ""


def parse_alerts(body: object) -> list[InboundAlert]:
    """Read any supported payload; raises ValidationError for anything else."""
    if not isinstance(body, Mapping):
        raise ValidationError(
            f"the body must be a JSON object (got {type(body).__name__}); send Alertmanager's "
            'or Grafana\'s webhook payload, or {"status": "firing", "name": "..."}',
            field="body",
        )
    if isinstance(body.get("alerts"), list):
        return _grouped(body)
    if "ruleName" in body or ("state" in body and "evalMatches" in body):
        return [_legacy_grafana(body)]
    return [_plain(body)]


def _grouped(body: Mapping[str, Any]) -> list[InboundAlert]:
    alerts = body["alerts"]
    if len(alerts) > MAX_ALERTS:
        raise ValidationError(
            f"at most {MAX_ALERTS} alerts per call (got {len(alerts)})", field="alerts"
        )
    common = _labels(body.get("commonLabels"), "commonLabels")
    kind = "grafana" if "orgId" in body or ("title" in body and "state" in body) else "alertmanager"
    out = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        if not isinstance(alert, Mapping):
            raise ValidationError("must be an object", field=where)
        labels = {**common, **_labels(alert.get("labels"), f"{where}.labels")}
        annotations = alert.get("annotations") or {}
        if not isinstance(annotations, Mapping):
            raise ValidationError("must be an object", field=f"{where}.annotations")
        summary = _summary(annotations)
        if not summary and alert.get("valueString"):
            summary = str(alert["valueString"])[:500]
        out.append(
            InboundAlert(
                status=_status(alert.get("status", body.get("status")), f"{where}.status"),
                name=labels.get("alertname", "alert"),
                labels=labels,
                summary=summary,
                fingerprint=str(alert.get("fingerprint", "")),
                format=kind,
            )
        )
    return out


def _legacy_grafana(body: Mapping[str, Any]) -> InboundAlert:
    state = str(body.get("state", ""))
    if state not in _LEGACY_GRAFANA_STATES:
        raise ValidationError(
            f"unknown Grafana state {state!r}; valid: {', '.join(_LEGACY_GRAFANA_STATES)}",
            field="state",
        )
    return InboundAlert(
        status=_LEGACY_GRAFANA_STATES[state],
        name=str(body.get("ruleName") or body.get("title") or "grafana alert"),
        labels=_labels(body.get("tags"), "tags"),
        summary=str(body.get("message") or body.get("title") or "")[:500],
        fingerprint=str(body.get("ruleId", "")),
        format="grafana",
    )


def _plain(body: Mapping[str, Any]) -> InboundAlert:
    name = body.get("name") or body.get("alert") or body.get("alertname")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(
            'a plain alert needs a name: {"status": "firing", "name": "HighErrorRate"}',
            field="name",
        )
    return InboundAlert(
        status=_status(body.get("status", "firing"), "status"),
        name=name.strip()[:200],
        labels=_labels(body.get("labels"), "labels"),
        summary=str(body.get("summary") or body.get("message") or "")[:500],
        format="plain",
    )
