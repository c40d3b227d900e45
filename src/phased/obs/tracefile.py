"""Traces on disk, so ``phased debug-last`` sees what an earlier command did.

Each CLI command is its own process, so the in-memory :class:`TraceStore`
forgets everything at exit. A trace file keeps finished traces as JSON lines
(redacted before they are written); :func:`load_traces` reads them back into a
store. The file is compacted to the newest ``keep`` traces when it grows past
twice that, so it stays small.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from phased.obs.redact import redact_secrets
from phased.obs.traces import ExecutionTrace, StepStatus, TraceStep, TraceStore

DEFAULT_TRACE_FILE = Path(".phased/traces.jsonl")
"""Where the CLI keeps traces (``--traces`` / ``PHASED_TRACE_FILE`` override it)."""


def trace_to_dict(trace: ExecutionTrace) -> dict[str, Any]:
    """A JSON-ready, redacted document of one trace (also the API's shape)."""
    document = {
        "trace_id": trace.trace_id,
        "command": trace.command,
        "user": trace.user,
        "started_at": trace.started_at.isoformat(),
        "duration_ms": trace.duration_ms,
        "error": trace.error,
        "links": dict(trace.links),
        "steps": [
            {
                "name": s.name,
                "status": StepStatus(s.status).value,
                "duration_ms": s.duration_ms,
                "details": s.details,
            }
            for s in trace.steps
        ],
    }
    redacted: dict[str, Any] = redact_secrets(document)
    return redacted


def trace_from_dict(document: dict[str, Any]) -> ExecutionTrace:
    """The inverse of :func:`trace_to_dict`."""
    return ExecutionTrace(
        trace_id=str(document["trace_id"]),
        command=str(document["command"]),
        user=document.get("user"),
        started_at=datetime.fromisoformat(document["started_at"]),
        duration_ms=document.get("duration_ms"),
        error=document.get("error"),
        links=dict(document.get("links") or {}),
        steps=[
            TraceStep(
                name=str(s["name"]),
                status=StepStatus(s.get("status", "ok")),
                duration_ms=s.get("duration_ms"),
                details=dict(s.get("details") or {}),
            )
            for s in document.get("steps", [])
        ],
    )


def append_trace(path: str | os.PathLike[str], trace: ExecutionTrace, *, keep: int = 1000) -> None:
    """Append one finished trace; compact the file past ``2 * keep`` lines."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(trace_to_dict(trace), ensure_ascii=False, default=str)
    # One write of one line in append mode: concurrent commands do not interleave.
    with file.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    lines = file.read_text(encoding="utf-8").splitlines()
    if len(lines) > 2 * keep:
        tmp = file.with_suffix(file.suffix + ".tmp")
        tmp.write_text("\n".join(lines[-keep:]) + "\n", encoding="utf-8")
        tmp.replace(file)


def load_traces(path: str | os.PathLike[str], store: TraceStore | None = None) -> TraceStore:
    """A store holding the traces of ``path`` (oldest first); unreadable lines are skipped."""
    target = store if store is not None else TraceStore()
    file = Path(path)
    if not file.exists():
        return target
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            target.add(trace_from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash mid-write
    return target


def persist_traces(path: str | os.PathLike[str], *, keep: int = 1000) -> TraceStore:
    """Make the process-wide store append every finished trace to ``path``.

    The CLI calls this once at start-up so ``phased debug-last`` can show what
    the previous command did. Returns the process-wide store.
    """
    from phased.obs.traces import get_trace_store

    store = get_trace_store()
    store.sink = lambda trace: append_trace(path, trace, keep=keep)
    return store
