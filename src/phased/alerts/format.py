"""The text of an alert, as seed 001 shows it, shared by the chat channels."""

from __future__ import annotations

from phased.alerts.model import Alert
from phased.obs.redact import redact_secrets, redact_text


def title(alert: Alert) -> str:
    """``🔴 CRITICAL ALERT``, with the repeat count on a dedup summary."""
    head = f"{alert.severity.emoji} {alert.severity.value.upper()} ALERT"
    return f"{head} (repeated {alert.repeats}×)" if alert.is_summary else head


def detail_lines(alert: Alert) -> list[str]:
    """The labelled lines under the message, already redacted."""
    lines: list[str] = []
    if alert.root_cause:
        lines.append(f"Root Cause: {redact_text(alert.root_cause)}")
    if alert.trace_id:
        lines.append(f"Trace ID: {alert.trace_id}")
    where = [
        f"{label}: {value}"
        for label, value in (
            ("Flag", alert.flag),
            ("Rollout", alert.rollout),
            ("Rule", alert.rule),
            ("Environment", alert.environment),
        )
        if value
    ]
    if where:
        lines.append(" · ".join(where))
    if alert.is_summary:
        window = f"{alert.window_seconds:g} s" if alert.window_seconds else "the window"
        lines.append(f"Repeated {alert.repeats} more times within {window} of the first alert.")
    return lines


def safe_links(alert: Alert) -> dict[str, str]:
    """The alert's links with any credentials masked."""
    links: dict[str, str] = redact_secrets(dict(alert.links))
    return {redact_text(label): url for label, url in links.items()}


def render_markdown(alert: Alert, *, limit: int = 2000) -> str:
    """The seed's layout in Markdown (Discord), shorter than ``limit`` characters."""
    parts = [title(alert), "", redact_text(alert.message)]
    details = detail_lines(alert)
    if details:
        parts += ["", *details]
    links = safe_links(alert)
    if links:
        parts += ["", *(f"[{label}]({url})" for label, url in links.items())]
    text = "\n".join(parts)
    return text if len(text) < limit else text[: limit - 2] + "…"
