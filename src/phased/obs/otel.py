"""OpenTelemetry: phased's execution traces as spans, exported over OTLP when configured.

Off by default, and nothing here imports OpenTelemetry until it is turned on:

- by the standard environment variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER=otlp``;
  ``OTEL_SDK_DISABLED=true`` wins), read by :func:`configure_from_env`, which
  ``phased serve`` calls at start; the OTLP/HTTP exporter reads the rest
  (headers, timeout, ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``);
- or by :func:`configure` with a tracer provider of the caller's (tests, or an
  application that embeds the server and has its own provider).

What becomes a span: every finished :class:`~phased.obs.traces.ExecutionTrace`
(an API mutation, an engine decision, a CLI command in a process that turned
this on), its steps as child spans, with the trace's own id as the trace id,
so the id in the JSON logs, in ``debug-last`` and in the tracing backend is
one id. A request that came with a ``traceparent`` is a child of the caller's
span; the span id is the one the response's ``traceparent`` names. Alert
deliveries and the SLO hook are live spans (:func:`span`).

Spans are built after the execution finished, from what the trace recorded,
and handed to a batch processor: no I/O on the request's path.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from phased.obs.traces import ExecutionTrace, StepStatus, on_trace_finished

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

__all__ = [
    "configure",
    "configure_from_env",
    "enabled",
    "new_provider",
    "shutdown",
    "span",
]

INSTRUMENTATION = "phased"

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_remove_listener: Any = None
# The ids the next span must carry (trace id, span id), set while a recorded
# trace is turned into spans; read by PhasedIdGenerator.
_next_ids: contextvars.ContextVar[tuple[int | None, int | None]] = contextvars.ContextVar(
    "phased_otel_ids", default=(None, None)
)


def enabled() -> bool:
    """Whether spans are being recorded."""
    return _tracer is not None


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the standard OTEL_* variables ask for trace export."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").lower()
    if "none" in exporters.split(","):
        return False
    return bool(
        "otlp" in exporters
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Turn export on when the OTEL_* variables ask for it; True when it is on.

    Raises:
        ConfigurationError: export is asked for but ``phased[otel]`` is not installed.
    """
    env = os.environ if environ is None else environ
    if enabled() or not wanted(env):
        return enabled()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        from phased.errors import ConfigurationError

        raise ConfigurationError(
            "OTEL_* variables ask for trace export but OpenTelemetry is not installed; "
            'pip install "phased[otel]" or unset OTEL_EXPORTER_OTLP_ENDPOINT',
            field="OTEL_EXPORTER_OTLP_ENDPOINT",
        ) from None
    configure(new_provider(OTLPSpanExporter()))
    return True


def new_provider(exporter: SpanExporter, *, batch: bool = True) -> TracerProvider:
    """A tracer provider whose spans keep phased's trace ids, exporting to ``exporter``.

    The resource comes from ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``
    (service name ``phased`` unless set).
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "phased")})
    provider = TracerProvider(resource=resource, id_generator=_id_generator())
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return provider


def configure(provider: TracerProvider) -> None:
    """Record phased's traces as spans of ``provider`` (replacing any earlier one)."""
    global _tracer, _provider, _remove_listener
    shutdown()
    from phased import __version__

    _provider = provider
    _tracer = provider.get_tracer(INSTRUMENTATION, __version__)
    _remove_listener = on_trace_finished(export_trace)


def shutdown() -> None:
    """Stop recording; flush and close the provider."""
    global _tracer, _provider, _remove_listener
    if _remove_listener is not None:
        _remove_listener()
        _remove_listener = None
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


def force_flush(timeout_millis: int = 5000) -> bool:
    """Export every span recorded so far (tests, shutdown)."""
    return _provider.force_flush(timeout_millis) if _provider is not None else True


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span | None]:
    """A live span around a block (None when export is off); an exception marks it failed."""
    tracer = _tracer
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(name, attributes=_attributes(attributes)) as live:
        yield live


def export_trace(trace: ExecutionTrace) -> None:
    """Turn one finished execution trace into a span and a child span per step."""
    tracer = _tracer
    if tracer is None or trace.duration_ms is None:
        return
    from opentelemetry import trace as api
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    trace_id = _hex(trace.trace_id, 32)
    if trace_id is None:
        return
    start = int(trace.started_at.timestamp() * 1e9)
    end = start + int(trace.duration_ms * 1e6)
    parent = None
    parent_span = _hex(trace.parent_span_id, 16) if trace.parent_span_id else None
    if parent_span is not None:
        remote = SpanContext(trace_id, parent_span, True, TraceFlags(TraceFlags.SAMPLED))
        parent = api.set_span_in_context(api.NonRecordingSpan(remote))
    is_request = trace.parent_span_id is not None or trace.span_id is not None
    attributes: dict[str, Any] = {
        "phased.command": trace.command,
        "phased.trace_id": trace.trace_id,
    }
    if trace.user:
        attributes["enduser.id"] = trace.user
    token = _next_ids.set((trace_id, _hex(trace.span_id, 16) if trace.span_id else None))
    try:
        root = tracer.start_span(
            trace.command,
            context=parent,
            kind=SpanKind.SERVER if is_request else SpanKind.INTERNAL,
            attributes=attributes,
            start_time=start,
        )
    finally:
        _next_ids.reset(token)
    in_root = api.set_span_in_context(root)
    at = start
    for step in trace.steps:
        duration = int((step.duration_ms or 0.0) * 1e6)
        child = tracer.start_span(
            step.name, context=in_root, attributes=_attributes(step.details), start_time=at
        )
        if step.status is StepStatus.FAILED:
            child.set_status(Status(StatusCode.ERROR, str(step.details.get("error", ""))))
        at = min(at + duration, end)
        child.end(end_time=at)
    if trace.error is not None or not all(s.status is StepStatus.OK for s in trace.steps):
        root.set_status(Status(StatusCode.ERROR, trace.error or "a step failed"))
    root.end(end_time=end)


def _id_generator() -> Any:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class PhasedIdGenerator(RandomIdGenerator):
        """Random ids, except that a recorded trace's span keeps the trace's own ids."""

        def generate_trace_id(self) -> int:
            wanted_id = _next_ids.get()[0]
            return wanted_id if wanted_id is not None else super().generate_trace_id()

        def generate_span_id(self) -> int:
            trace_id, span_id = _next_ids.get()
            if span_id is not None:
                _next_ids.set((trace_id, None))  # the root only; its children get fresh ids
                return span_id
            return super().generate_span_id()

    return PhasedIdGenerator()


def _hex(value: str | None, digits: int) -> int | None:
    if not value or len(value) != digits:
        return None
    try:
        number = int(value, 16)
    except ValueError:
        return None
    return number or None


def _attributes(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        name = key if "." in key else f"phased.{key}"
        if isinstance(value, bool | int | float | str):
            out[name] = value
        elif value is not None:
            out[name] = str(value)
    return out
