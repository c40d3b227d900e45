"""Flag evaluations as `feature_flag.evaluation` span events (semantic conventions), sampled."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from phased import Client
from phased.core.flagfile import parse_flagset
from phased.errors import ValidationError
from phased.openfeature import PhasedProvider
from phased.sdk.otel_flags import EVENT, OpenTelemetryHook, instrument

FLAGS = parse_flagset(
    """
segments:
  staff: {where: "role in [admin]"}
flags:
  checkout:
    environments:
      prod:
        rules: [{segment: staff}]
        rollout: 50
"""
)


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A private tracer provider recording to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _events(exporter: InMemorySpanExporter) -> list[dict[str, object]]:
    return [
        dict(e.attributes or {})
        for s in exporter.get_finished_spans()
        for e in s.events
        if e.name == EVENT
    ]


class TestInstrumentedClient:
    """instrument(client) adds one event per sampled evaluation to the current span."""

    def test_attributes(self, spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
        provider, exporter = spans
        client = Client(FLAGS, environment="prod")
        undo = instrument(client)
        with provider.get_tracer("app").start_as_current_span("request"):
            assert client.is_enabled("checkout", user="u-1", role="admin") is True
            client.evaluate("missing", user="u-2")
        undo()
        first, second = _events(exporter)
        assert first == {
            "feature_flag.key": "checkout",
            "feature_flag.provider.name": "phased",
            "feature_flag.result.reason": "targeting_match",
            "feature_flag.result.variant": "on",
            "feature_flag.result.value": True,
            "feature_flag.context.id": "u-1",
        }
        assert second["error.type"] == "flag_not_found"
        assert second["feature_flag.result.reason"] == "error"

    def test_sampling_and_undo(self, spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
        provider, exporter = spans
        client = Client(FLAGS, environment="prod")
        draws = iter([0.05, 0.5, 0.09, 0.99])
        undo = instrument(client, sample_rate=0.1, sampler=lambda: next(draws))
        with provider.get_tracer("app").start_as_current_span("request"):
            for i in range(4):
                client.variant("checkout", user=f"u-{i}")
        assert len(_events(exporter)) == 2
        undo()
        assert "is_enabled" not in client.__dict__

    def test_without_a_span_nothing_happens(self) -> None:
        client = Client(FLAGS, environment="prod")
        instrument(client)
        with client.track("checkout", user="u-1") as t:
            assert isinstance(t.enabled, bool)
        client.close()

    def test_rate_is_checked(self) -> None:
        with pytest.raises(ValidationError, match="sample_rate must be between 0 and 1"):
            instrument(Client(FLAGS, environment="prod"), sample_rate=2)


class TestOpenFeatureHook:
    """OpenTelemetryHook records evaluations made through the OpenFeature API."""

    def test_hook(self, spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
        provider, exporter = spans
        domain = f"otel-{uuid.uuid4().hex[:8]}"
        api.set_provider(PhasedProvider(Client(FLAGS, environment="prod")), domain)
        of = api.get_client(domain)
        of.add_hooks([OpenTelemetryHook()])
        try:
            with provider.get_tracer("app").start_as_current_span("request"):
                of.get_boolean_value("checkout", False, EvaluationContext("u-1", {"role": "admin"}))
                of.get_boolean_value("missing", False, EvaluationContext("u-1"))
        finally:
            api.clear_providers()
        hit, miss = _events(exporter)
        assert hit["feature_flag.provider.name"] == "phased"
        assert hit["feature_flag.result.reason"] == "targeting_match"
        assert hit["feature_flag.context.id"] == "u-1"
        assert miss["error.type"] == "flag_not_found"
