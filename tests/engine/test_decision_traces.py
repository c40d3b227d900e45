"""Every engine decision leaves a trace and a log line; its alerts commit with it or not at all."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import Connection

from phased.alerts.model import Severity
from phased.engine.loop import Engine
from phased.obs import ExecutionTrace, TraceStore, configure_logging
from phased.service import audit, events
from phased.service import plan_rollouts as pr
from phased.settings import Settings
from phased.store.audit import AuditEntry
from phased.store.engine import Store
from phased.store.outbox import Outbox
from phased.testing import FrozenClock
from service.rollout_fixtures import PLAN, feed, seed_people

STEPS = ["read rollouts", "read metrics", "decide", "apply"]


@pytest.fixture
def going(store: Store) -> Store:
    """``awf_bundle`` rolling out in prod at its first stage (canary-5)."""
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """phased's JSON log lines, at debug level, in a buffer."""
    buffer = io.StringIO()
    configure_logging(Settings(), stream=buffer, level="debug", json=True)
    yield buffer
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _only(traces: TraceStore) -> ExecutionTrace:
    found = traces.list()
    assert len(found) == 1, [t.command for t in found]
    return found[0]


def _decisions(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    return [line for line in lines if line["msg"] == "engine_decision"]


class TestDecisionTraces:
    """Each decision is a trace with the rollout and the decision in its steps."""

    def test_rollback_leaves_a_trace_and_a_log_line(
        self, going: Store, clock: FrozenClock, log_buffer: io.StringIO
    ) -> None:
        clock.advance(60)
        feed(going, clock, candidate=(200, 100))
        traces = TraceStore()
        Engine(going, traces=traces).run_once()
        recorded = _only(traces)
        assert recorded.command == "engine decide awf_bundle"
        assert recorded.user == "engine"
        assert recorded.ok
        assert [s.name for s in recorded.steps] == STEPS
        measured, decided, applied = recorded.steps[1:]
        assert measured.details["flag"] == "awf_bundle"
        assert measured.details["stage"] == "canary-5"
        assert decided.details["decision"] == "rollback"
        assert "error_rate" in decided.details["reason"]
        assert applied.details["phase"] == "rolled_back"
        assert applied.details["alerts_queued"] >= 1
        (line,) = _decisions(log_buffer)
        assert line["trace_id"] == recorded.trace_id
        assert line["user_id"] == "engine"
        assert line["cmd"] == "engine decide awf_bundle"
        assert (line["level"], line["decision"]) == ("info", "rollback")

    def test_a_hold_is_traced_and_logged_at_debug(
        self, going: Store, log_buffer: io.StringIO
    ) -> None:
        traces = TraceStore()
        Engine(going, traces=traces).run_once()
        assert _only(traces).steps[2].details["decision"] == "hold"
        assert [line["level"] for line in _decisions(log_buffer)] == ["debug"]

    def test_each_decision_has_its_own_trace(self, going: Store, clock: FrozenClock) -> None:
        traces = TraceStore()
        engine = Engine(going, traces=traces)
        engine.run_once()
        clock.advance(60)
        engine.run_once()
        assert len({t.trace_id for t in traces.list(user="engine")}) == 2


class TestAlertsCommitWithTheDecision:
    """A pause or rollback writes its alert in the decision's own transaction."""

    def test_rollback_puts_a_critical_alert_in_the_outbox(
        self, going: Store, clock: FrozenClock
    ) -> None:
        clock.advance(60)
        feed(going, clock, candidate=(200, 100))
        traces = TraceStore()
        Engine(going, traces=traces).run_once()
        (queued,) = Outbox(going.engine).list()
        assert queued.alert.severity is Severity.CRITICAL
        assert queued.alert.flag == "awf_bundle"
        # the alert names the decision's trace, so debug-last can show how it came about
        assert queued.alert.trace_id == _only(traces).trace_id
        assert queued.status.value == "pending"
        entry = audit.recent(going, entity="rollout:awf_bundle")[0]
        assert entry.action == "rollout.rollback"

    def test_pause_puts_an_alert_in_the_outbox(self, going: Store, clock: FrozenClock) -> None:
        clock.advance(60)
        feed(going, clock, candidate=(200, 50), retries=1)  # retry_rate 1.0 > 0.5: pause
        Engine(going, traces=TraceStore()).run_once()
        assert pr.get_rollout(going, "awf_bundle").phase == "paused"
        assert [q.alert.flag for q in Outbox(going.engine).list()] == ["awf_bundle"]

    def test_a_decision_that_fails_to_commit_leaves_no_alert(
        self, going: Store, clock: FrozenClock
    ) -> None:
        def refuse(_conn: Connection, entry: AuditEntry) -> None:
            if entry.action == "rollout.rollback":
                raise RuntimeError("audit store full")

        clock.advance(60)
        feed(going, clock, candidate=(200, 100))
        traces = TraceStore()
        unsubscribe = events.subscribe(refuse)
        try:
            report = Engine(going, traces=traces).run_once()
        finally:
            unsubscribe()
        assert "audit store full" in report.errors[0]
        assert Outbox(going.engine).list() == []
        assert pr.get_rollout(going, "awf_bundle").phase == "running"
        recorded = _only(traces)
        assert [(s.name, s.status.value) for s in recorded.steps][-1] == ("apply", "failed")
        assert recorded.error is not None
        assert "audit store full" in recorded.error
