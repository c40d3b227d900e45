"""W3C Trace Context (``traceparent``) helpers.

phased's trace ids are W3C trace ids (32 lowercase hex digits), so a trace an
application started for a request joins the one phased records for it: the
server reads ``traceparent`` from the request (:func:`parse_traceparent`) and
sends one back (:func:`format_traceparent`).

Format: ``{version:2}-{trace_id:32}-{parent_id:16}-{flags:2}``, e.g.
``00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

_HEADER = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?$"
)
SAMPLED = 0x01


@dataclass(frozen=True, slots=True)
class TraceContext:
    """The parts of a ``traceparent`` header."""

    trace_id: str
    parent_id: str
    flags: int = SAMPLED

    @property
    def sampled(self) -> bool:
        """Whether the caller recorded this trace."""
        return bool(self.flags & SAMPLED)


def new_trace_id() -> str:
    """A random W3C trace id: 32 lowercase hex digits, never all zeros."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A random W3C span (parent) id: 16 lowercase hex digits."""
    return secrets.token_hex(8)


def parse_traceparent(header: str | None) -> TraceContext | None:
    """Parse a ``traceparent`` header; None when absent or invalid.

    Invalid headers are ignored rather than refused, as the W3C spec asks: the
    request then simply starts a new trace.
    """
    if not header:
        return None
    match = _HEADER.match(header.strip().lower())
    if match is None:
        return None
    version = match["version"]
    # Version ff is forbidden; version 00 has no trailing fields; later
    # versions may append fields, which we must ignore.
    if version == "ff" or (version == "00" and match["rest"]):
        return None
    trace_id, parent_id = match["trace_id"], match["parent_id"]
    if set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return TraceContext(trace_id=trace_id, parent_id=parent_id, flags=int(match["flags"], 16))


def format_traceparent(trace_id: str, span_id: str | None = None, *, sampled: bool = True) -> str:
    """A version-00 ``traceparent`` value for ``trace_id``.

    A trace id that is not 32 hex digits (e.g. a UUID with dashes) is
    normalised by dropping dashes and lowercasing; anything else is replaced by
    a fresh id, since a malformed header would be dropped downstream anyway.
    """
    candidate = trace_id.replace("-", "").lower()
    if not re.fullmatch(r"[0-9a-f]{32}", candidate) or set(candidate) == {"0"}:
        candidate = new_trace_id()
    span = span_id if span_id and re.fullmatch(r"[0-9a-f]{16}", span_id) else new_span_id()
    return f"00-{candidate}-{span}-{SAMPLED if sampled else 0:02x}"
