"""Observability: JSON logs with trace ids, secret redaction, traces and debug-last.

Everything phased writes about itself goes through here, and applications may
use it for their own logs and traces. See ``docs/observability.md``.
"""

from __future__ import annotations

from phased.obs.debug_last import render_debug_last, render_trace
from phased.obs.log import (
    clear_context,
    configure_logging,
    context,
    get_context,
    get_logger,
    set_context,
)
from phased.obs.redact import mask, redact_secrets, redact_text
from phased.obs.traceparent import (
    TraceContext,
    format_traceparent,
    new_span_id,
    new_trace_id,
    parse_traceparent,
)
from phased.obs.traces import (
    ExecutionTrace,
    StepStatus,
    TraceStep,
    TraceStore,
    get_trace_fingerprint,
    get_trace_store,
    trace,
)

__all__ = [
    "ExecutionTrace",
    "StepStatus",
    "TraceContext",
    "TraceStep",
    "TraceStore",
    "clear_context",
    "configure_logging",
    "context",
    "format_traceparent",
    "get_context",
    "get_logger",
    "get_trace_fingerprint",
    "get_trace_store",
    "mask",
    "new_span_id",
    "new_trace_id",
    "parse_traceparent",
    "redact_secrets",
    "redact_text",
    "render_debug_last",
    "render_trace",
    "set_context",
    "trace",
]
