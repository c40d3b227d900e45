"""Incidents: recorded and audited; the plan's action for the severity happens at once."""

from __future__ import annotations

import pytest

from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.service import audit, flags
from phased.service import plan_rollouts as pr
from phased.service.incidents import list_incidents, open_incident, resolve_incident
from phased.store.engine import Store
from phased.store.outbox import Outbox

from .rollout_fixtures import PLAN, seed_people


@pytest.fixture
def going(store: Store) -> Store:
    seed_people(store)
    pr.apply_plan(store, actor="alice", text=PLAN)
    return store


class TestOpenIncident:
    """P0 rolls back before the command returns; P1 pauses (as this plan says); P2 only records."""

    def test_p0_rolls_back_at_once(self, going: Store) -> None:
        opened = open_incident(
            going, actor="oncall", flag="awf_bundle", severity="p0", title="bot down"
        )
        assert opened.incident.key == "INC-1"
        assert opened.incident.action == "rollback"
        assert opened.decision is not None
        assert (
            opened.decision.reason
            == "rolled back at stage canary-5: incident INC-1 P0 (bot down) is open"
        )
        assert flags.get_flag(going, "awf_bundle").flag.environments["prod"].rollout == 0.0
        assert Outbox(going.engine).list()[0].alert.severity.value == "critical"
        actions = [e.action for e in audit.recent(going, limit=3)][::-1]
        assert actions == ["incident.open", "rollout.rollback", "rollout.rollback"]
        assert {e.actor for e in audit.recent(going, limit=3)} == {"oncall"}

    def test_p1_pauses_and_stays_paused_after_resolving(self, going: Store) -> None:
        opened = open_incident(going, actor="oncall", flag="awf_bundle", severity="P1")
        assert opened.incident.action == "pause"
        resolve_incident(going, actor="oncall", incident="INC-1")
        rollout = pr.get_rollout(going, "awf_bundle")
        assert rollout.phase == "paused"
        assert rollout.state.open_incidents() == ()

    def test_p2_is_recorded_only(self, going: Store) -> None:
        opened = open_incident(going, actor="oncall", flag="awf_bundle", severity="P2")
        assert opened.incident.action is None
        assert pr.get_rollout(going, "awf_bundle").phase == "running"

    def test_without_a_rollout_it_is_recorded(self, store: Store) -> None:
        seed_people(store)
        opened = open_incident(store, actor="oncall", flag="awf_bundle", severity="P0")
        assert opened.decision is None
        assert [i.key for i in list_incidents(store, open_only=True)] == ["INC-1"]

    def test_bad_input(self, going: Store) -> None:
        with pytest.raises(ValidationError, match="unknown severity 'P5'; use P0, P1, P2, P3"):
            open_incident(going, actor="oncall", flag="awf_bundle", severity="P5")
        with pytest.raises(NotFoundError, match="no flag 'nope'"):
            open_incident(going, actor="oncall", flag="nope", severity="P0")


class TestResolve:
    """Resolving is audited once; a second time is refused."""

    def test_resolve_twice(self, going: Store) -> None:
        open_incident(going, actor="oncall", flag="awf_bundle", severity="P3")
        done = resolve_incident(going, actor="lead", incident="inc-1")
        assert done.resolved_by == "lead"
        with pytest.raises(ConflictError, match="INC-1 was resolved by lead"):
            resolve_incident(going, actor="lead", incident="INC-1")
        with pytest.raises(ValidationError, match="looks like INC-7"):
            resolve_incident(going, actor="lead", incident="seven")
        assert list_incidents(going, open_only=True) == []
