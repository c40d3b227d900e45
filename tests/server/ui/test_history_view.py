"""The rollout page's story: holds folded, manual changes of the flag shown, audit links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from phased.core.plans import parse_plan
from phased.core.rollout_state import new_rollout
from phased.server.ui.history_view import story_lines
from phased.service.rollout_records import HistoryEntry, Rollout
from phased.store.audit import AuditEntry

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PLAN = parse_plan("flag: f\nenvironment: prod\nstages:\n  - {name: a, audience: 5}\n", "p.yaml")


def _rollout() -> Rollout:
    return Rollout(
        id=1,
        flag="f",
        environment="prod",
        plan=PLAN,
        plan_source="",
        plan_path="p.yaml",
        state=new_rollout("f", "alice", T0),
        version=1,
        created_by="alice",
        created_at=T0,
        updated_at=T0,
    )


def _h(n: int, kind: str, minutes: int) -> HistoryEntry:
    return HistoryEntry(
        id=n,
        at=T0 + timedelta(minutes=minutes),
        actor="engine",
        kind=kind,
        source="engine",
        stage="a",
        stage_index=0,
        phase="running",
        reason=f"{kind} {n}",
        dry_run=False,
        evaluations=(),
        alerts=(),
        waiting=(),
    )


def _audit(n: int, action: str, entity: str, minutes: int, actor: str = "engine") -> AuditEntry:
    return AuditEntry(
        id=n,
        ts=T0 + timedelta(minutes=minutes),
        actor=actor,
        action=action,
        entity=entity,
        details={},
        prev_hash="",
        hash="",
    )


class TestStory:
    """Newest first; holds fold with their span; the manual change and the advance link out."""

    def test_lines(self) -> None:
        history = [_h(1, "advance", 0), *[_h(i, "hold", i * 10) for i in range(2, 8)]]
        audit = [
            _audit(10, "rollout.advance", "rollout:f", 0),
            _audit(11, "rollout.advance", "flag:f", 0),  # the engine's own write: not manual
            _audit(12, "rollout.set", "flag:f", 35, actor="bob"),
        ]
        lines = story_lines(_rollout(), history, audit)
        assert [(line.kind, line.count) for line in lines] == [
            ("hold", 4),
            ("manual", 1),
            ("hold", 2),
            ("advance", 1),
        ]
        manual = lines[1]
        assert manual.notable
        assert manual.reason == "rollout.set by bob while the plan controls the flag"
        assert manual.audit_url is not None
        assert manual.audit_url.endswith("#e12")
        assert lines[3].audit_url is not None
        assert lines[3].audit_url.endswith("#e10")
        folded = lines[2]
        assert not folded.notable
        assert folded.lasted == "10m"
        assert (folded.reason, folded.first_reason) == ("hold 3", "hold 2")
