"""Render the most recent trace for ``phased debug-last`` and ``GET /api/v1/debug/last``.

The output is redacted and always shorter than :data:`DISCORD_LIMIT`
(2,000 characters, seed 001's bound, so it can be pasted into a chat message).
When the steps do not fit, the middle ones are replaced by one
``… N more steps`` line: whole lines are dropped, never cut in the middle.
Single fields that are long on their own (an error with a traceback, a huge
detail) are clipped to :data:`MAX_LINE` characters ending in ``…`` before
the budget is applied, and at most :data:`MAX_LINKS` links are shown, so the
header, the error and the links always fit together (about 1,400 characters
at most) and only steps are ever dropped.
"""

from __future__ import annotations

import re
from typing import Any

from phased.obs.redact import redact_secrets, redact_text
from phased.obs.traces import ExecutionTrace, StepStatus, TraceStore, get_trace_store

DISCORD_LIMIT = 2000
MAX_LINE = 240
MAX_LINKS = 3
MAX_LINK_LINE = 160
_NEWLINES = re.compile(r"\s*[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")
TITLE = "🔍 Last Execution Debug Info"
NO_TRACE = "🔍 No execution recorded yet."


def _clip(text: str, width: int = MAX_LINE) -> str:
    # A newline inside a field would break the one-item-per-line structure.
    text = _NEWLINES.sub(" ", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _ms(value: float | None) -> str:
    return "…" if value is None else f"{round(value)}ms"


def _details(details: dict[str, Any]) -> str:
    if not details:
        return ""
    safe = redact_secrets(details)
    return " — " + ", ".join(f"{k}={v}" for k, v in safe.items())


def _step_line(step: Any) -> str:
    status = StepStatus(step.status)
    timing = "running" if status is StepStatus.RUNNING else _ms(step.duration_ms)
    return _clip(f"  {status.emoji} {redact_text(step.name)} ({timing}){_details(step.details)}")


def _sections(trace: ExecutionTrace) -> tuple[list[str], list[str], list[str]]:
    started = trace.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    duration = "running" if trace.duration_ms is None else _ms(trace.duration_ms)
    head = [
        TITLE,
        "",
        _clip(f"Command: {redact_text(trace.command)}"),
        _clip(f"Trace ID: {trace.trace_id}", 80),
        *([_clip(f"User: {redact_text(trace.user)}", 120)] if trace.user else []),
        f"Started: {started}",
        f"Duration: {duration}",
        "",
        "Steps:" if trace.steps else "Steps: none recorded",
    ]
    steps = [_step_line(s) for s in list(trace.steps)]
    tail: list[str] = []
    if trace.error:
        tail += ["", _clip(f"❌ Error: {redact_text(trace.error)}")]
    links = list(trace.links.items())
    if links:
        tail.append("")
        tail += [
            _clip(f"[{redact_text(k)}]({redact_text(v)})", MAX_LINK_LINE)
            for k, v in links[:MAX_LINKS]
        ]
        if len(links) > MAX_LINKS:
            tail.append(f"… {len(links) - MAX_LINKS} more links")
    return head, steps, tail


def _more(count: int) -> str:
    return f"  … {count} more step{'s' if count != 1 else ''}"


def render_trace(trace: ExecutionTrace | None, *, limit: int = DISCORD_LIMIT) -> str:
    """Render ``trace`` as text shorter than ``limit`` characters.

    Args:
        trace: the trace to show; None renders a "nothing recorded" line.
        limit: exclusive upper bound on the length of the result.
    """
    if trace is None:
        return NO_TRACE
    head, steps, tail = _sections(trace)
    for kept in range(len(steps), -1, -1):
        if kept == len(steps):
            middle = steps
        else:
            first = (kept + 1) // 2
            last = kept - first
            middle = [*steps[:first], _more(len(steps) - kept), *steps[len(steps) - last :]]
        text = "\n".join([*head, *middle, *tail])
        if len(text) < limit:
            return text
    # Only reachable with a tiny custom limit: drop whole lines from the end.
    lines = [*head, _more(len(steps)), *tail]
    while lines and len("\n".join(lines)) >= limit:
        lines.pop()
    return "\n".join(lines)


def render_debug_last(
    user: str | None = None, *, store: TraceStore | None = None, limit: int = DISCORD_LIMIT
) -> str:
    """Render the most recent trace (of ``user`` when given) from the store."""
    return render_trace((store if store is not None else get_trace_store()).last(user), limit=limit)
