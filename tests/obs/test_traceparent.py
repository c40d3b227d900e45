"""W3C traceparent parsing and formatting."""

from __future__ import annotations

import pytest

from phased.obs import format_traceparent, new_trace_id, parse_traceparent

EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class TestParse:
    """Valid headers give the trace id; anything invalid is ignored (None)."""

    def test_example(self) -> None:
        parsed = parse_traceparent(EXAMPLE)
        assert parsed is not None
        assert parsed.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert parsed.parent_id == "00f067aa0ba902b7"
        assert parsed.sampled

    def test_future_version_with_extra_fields(self) -> None:
        parsed = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-xyz")
        assert parsed is not None
        assert not parsed.sampled

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "garbage",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ],
    )
    def test_invalid(self, header: str | None) -> None:
        assert parse_traceparent(header) is None


class TestFormat:
    """Formatted headers parse back to the same trace id."""

    def test_round_trip(self) -> None:
        trace_id = new_trace_id()
        parsed = parse_traceparent(format_traceparent(trace_id))
        assert parsed is not None
        assert parsed.trace_id == trace_id

    def test_uuid_with_dashes_is_normalised(self) -> None:
        header = format_traceparent("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736", "00f067aa0ba902b7")
        assert header == EXAMPLE

    def test_not_sampled(self) -> None:
        assert format_traceparent(new_trace_id(), sampled=False).endswith("-00")

    def test_malformed_id_gets_a_fresh_one(self) -> None:
        assert parse_traceparent(format_traceparent("not-a-trace")) is not None
