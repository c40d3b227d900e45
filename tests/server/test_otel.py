"""Server spans: API mutations and recorded executions as OpenTelemetry spans, same trace ids.

In memory with the SDK's exporter, and over OTLP/HTTP to a real receiver on
127.0.0.1 that decodes the protobuf payload.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from phased.obs import otel, trace
from phased.obs.traces import TraceStore

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@pytest.fixture
def memory() -> Iterator[InMemorySpanExporter]:
    """Spans recorded to memory for the test, export off again afterwards."""
    exporter = InMemorySpanExporter()
    otel.configure(otel.new_provider(exporter, batch=False))
    yield exporter
    otel.shutdown()


class TestRequests:
    """A mutation is a SERVER span with the request's trace id, child of the caller's span."""

    def test_joined_to_incoming_traceparent(
        self, server: RunningServer, memory: InMemorySpanExporter
    ) -> None:
        response = server.client().post(
            "/api/v1/flags",
            json={"key": "checkout"},
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT}-01"},
        )
        assert response.status_code == 201
        assert response.headers["x-trace-id"] == TRACE_ID
        own_span = response.headers["traceparent"].split("-")[2]
        spans = memory.get_finished_spans()
        root = next(s for s in spans if s.name == "POST /api/v1/flags")
        assert root.kind is SpanKind.SERVER
        assert f"{root.context.trace_id:032x}" == TRACE_ID
        assert f"{root.context.span_id:016x}" == own_span
        assert root.parent is not None
        assert f"{root.parent.span_id:016x}" == PARENT
        assert root.attributes is not None
        assert root.attributes["enduser.id"] == "root"
        steps = [s for s in spans if s.parent and s.parent.span_id == root.context.span_id]
        assert {"authenticate", "commit"} <= {s.name for s in steps}
        # The same id the debug-last trace and the JSON logs carry.
        last = server.client().get("/api/v1/debug/last", params={"user": "root"})
        assert TRACE_ID[:8] in last.text

    def test_without_traceparent_the_trace_id_is_phaseds(
        self, server: RunningServer, memory: InMemorySpanExporter
    ) -> None:
        response = server.client().post("/api/v1/flags", json={"key": "checkout"})
        root = next(s for s in memory.get_finished_spans() if s.name == "POST /api/v1/flags")
        assert f"{root.context.trace_id:032x}" == response.headers["x-trace-id"]
        assert root.parent is None

    def test_reads_and_sdk_traffic_make_no_spans(
        self, server: RunningServer, memory: InMemorySpanExporter
    ) -> None:
        server.client().get("/api/v1/flags")
        server.client().get("/api/v1/sdk/flags")
        assert memory.get_finished_spans() == ()

    def test_a_refused_mutation_is_an_error_span(
        self, server: RunningServer, memory: InMemorySpanExporter
    ) -> None:
        server.client().post("/api/v1/flags", json={"key": "Bad Key"})
        root = next(s for s in memory.get_finished_spans() if s.name == "POST /api/v1/flags")
        assert root.status.status_code is StatusCode.ERROR


class TestRecordedExecutions:
    """Any recorded execution (an engine decision) is a span tree with its own trace id."""

    def test_engine_style_trace(self, memory: InMemorySpanExporter) -> None:
        with trace("engine decide checkout", user="engine", store=TraceStore()) as tr:
            tr.step("read metrics", flag="checkout", stages_measured=2)
            with tr.step("decide") as step:
                step.details["decision"] = "advance"
        spans = {s.name: s for s in memory.get_finished_spans()}
        root = spans["engine decide checkout"]
        assert f"{root.context.trace_id:032x}" == tr.trace_id
        assert root.kind is SpanKind.INTERNAL
        assert spans["decide"].attributes == {"phased.decision": "advance"}
        assert spans["read metrics"].attributes == {
            "phased.flag": "checkout",
            "phased.stages_measured": 2,
        }

    def test_live_span_and_off_by_default(self, memory: InMemorySpanExporter) -> None:
        with otel.span("alert deliver", channel="ops") as live:
            assert live is not None
        assert memory.get_finished_spans()[0].attributes == {"phased.channel": "ops"}
        otel.shutdown()
        with otel.span("alert deliver") as off:
            assert off is None


class _Receiver(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args: object) -> None:
        return


class TestOtlpExport:
    """OTEL_EXPORTER_OTLP_ENDPOINT turns export on; spans arrive at a real OTLP/HTTP receiver."""

    def test_spans_reach_the_receiver(
        self, start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        received: list[ExportTraceServiceRequest] = []
        handler = type("Receiver", (_Receiver,), {"received": received})
        receiver = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        monkeypatch.setenv(
            "OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.server_port}"
        )
        monkeypatch.setenv("OTEL_SERVICE_NAME", "phased-test")
        try:
            assert not otel.enabled()
            server = start_server()
            assert otel.enabled()
            server.client().post(
                "/api/v1/flags",
                json={"key": "checkout"},
                headers={"traceparent": f"00-{TRACE_ID}-{PARENT}-01"},
            )
            assert otel.force_flush()
        finally:
            otel.shutdown()
            receiver.shutdown()
            receiver.server_close()
        spans = [
            (span, rs.resource)
            for request in received
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        root, resource = next((s, r) for s, r in spans if s.name == "POST /api/v1/flags")
        assert root.trace_id.hex() == TRACE_ID
        assert root.parent_span_id.hex() == PARENT
        names = {a.key: a.value.string_value for a in resource.attributes}
        assert names["service.name"] == "phased-test"

    def test_off_without_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        assert otel.configure_from_env({}) is False
        assert otel.wanted({"OTEL_TRACES_EXPORTER": "otlp"})
        assert not otel.wanted(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"}
        )
        assert not otel.enabled()
