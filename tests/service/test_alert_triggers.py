"""Alert triggers: a firing alert pauses, rolls back or disables; a resolved one resumes only if asked."""

from __future__ import annotations

import pytest

from phased.core.rollout_state import RolloutPhase
from phased.errors import AuthenticationError, NotFoundError, ValidationError
from phased.service import alert_triggers as triggers
from phased.service import audit, flags
from phased.service import plan_rollouts as pr
from phased.store.engine import Store

PLAN = """\
flag: bot_smoke
environment: prod
stages:
  - name: canary
    audience: 5
    min_duration: 1h
  - name: full
    audience: 100
"""

FIRING = {
    "version": "4",
    "status": "firing",
    "commonLabels": {"alertname": "LambdaErrors"},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "LambdaErrors", "flag": "bot_smoke", "team": "bots"},
            "annotations": {"summary": "errors above 5 %"},
            "fingerprint": "a1",
        }
    ],
}
RESOLVED = {
    **FIRING,
    "status": "resolved",
    "alerts": [{**FIRING["alerts"][0], "status": "resolved"}],  # type: ignore[index]
}


def start(store: Store, plan: str = PLAN) -> None:
    flags.create_flag(store, actor="seed", key="bot_smoke")
    pr.apply_plan(store, actor="alice", text=plan)


def phase(store: Store) -> RolloutPhase:
    return pr.get_rollout(store, "bot_smoke").state.phase


def prod(store: Store) -> tuple[bool, float]:
    state = flags.get_flag(store, "bot_smoke").flag.environments["prod"]
    return state.enabled, state.rollout


class TestFiring:
    """What a firing alert does, recorded in history and audit."""

    def test_pause_by_default(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        assert made.token.startswith("phd_trg_")
        result = triggers.fire(store, made.token, FIRING)
        assert [(f.flag, f.did) for f in result.results] == [("bot_smoke", "paused")]
        assert phase(store) is RolloutPhase.PAUSED
        last = pr.rollout_history(store, "bot_smoke")[-1]
        assert (last.kind, last.source, last.actor) == ("pause", "alert", "alert:am")
        assert "alert LambdaErrors firing: errors above 5 %" in last.reason
        actions = [e.action for e in audit.recent(store, limit=5)]
        assert actions[:2] == ["trigger.fire", "rollout.pause"]
        again = triggers.fire(store, made.token, FIRING)
        assert again.results[0].did == "nothing: already paused"

    def test_rollback_and_disable(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(
            store, actor="root", flag="bot_smoke", name="am", action="disable"
        )
        assert triggers.fire(store, made.token, FIRING).results[0].did == "disabled"
        assert phase(store) is RolloutPhase.ROLLED_BACK
        assert prod(store) == (False, 0.0)

    def test_plan_decides_the_action(self, store: Store) -> None:
        start(store, PLAN + "on_alert: {action: rollback}\n")
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        assert triggers.fire(store, made.token, FIRING).results[0].did == "rolled back"
        assert prod(store)[1] == 0.0

    def test_labels_must_match(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(
            store, actor="root", flag="bot_smoke", name="am", match={"team": "payments"}
        )
        result = triggers.fire(store, made.token, FIRING)
        assert (result.received, result.matched, result.results) == (1, 0, [])
        assert phase(store) is RolloutPhase.RUNNING

    def test_any_flag_trigger_routes_by_the_flag_label(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(store, actor="root", flag="*", name="global")
        assert triggers.fire(store, made.token, FIRING).results[0].flag == "bot_smoke"
        assert phase(store) is RolloutPhase.PAUSED
        plain = triggers.fire(store, made.token, {"name": "x"})
        assert plain.results[0].did.startswith("nothing: the alert has no `flag` label")

    def test_no_rollout_is_recorded_too(self, store: Store) -> None:
        flags.create_flag(store, actor="seed", key="bot_smoke")
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        result = triggers.fire(store, made.token, FIRING)
        assert result.results[0].did == "nothing: flag 'bot_smoke' has no rollout in progress"
        assert audit.recent(store, limit=1)[0].action == "trigger.fire"


class TestResolved:
    """A resolved alert never resumes by itself unless the plan says so."""

    def test_not_resumed_by_default(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        triggers.fire(store, made.token, FIRING)
        did = triggers.fire(store, made.token, RESOLVED).results[0].did
        assert "does not resume" in did
        assert phase(store) is RolloutPhase.PAUSED

    def test_resumed_when_the_plan_says_so(self, store: Store) -> None:
        start(store, PLAN + "on_alert: {resume_on_resolved: true}\n")
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        triggers.fire(store, made.token, FIRING)
        assert triggers.fire(store, made.token, RESOLVED).results[0].did == "resumed"
        assert phase(store) is RolloutPhase.RUNNING

    def test_a_person_s_pause_is_not_resumed(self, store: Store) -> None:
        from phased.service.rollout_controls import pause_rollout

        start(store, PLAN + "on_alert: {resume_on_resolved: true}\n")
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        pause_rollout(store, actor="pat", flag="bot_smoke", reason="looking")
        did = triggers.fire(store, made.token, RESOLVED).results[0].did
        assert did == "nothing: resolved; the rollout was not paused by this trigger"
        assert phase(store) is RolloutPhase.PAUSED


class TestTokens:
    """The token is the key: unknown, revoked or malformed ones are refused."""

    def test_revoked_token_is_refused(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        triggers.revoke_trigger(store, actor="root", flag="bot_smoke", name="am")
        with pytest.raises(AuthenticationError, match="revoked"):
            triggers.fire(store, made.token, FIRING)
        with pytest.raises(AuthenticationError):
            triggers.fire(store, "phd_trg_guess", FIRING)
        with pytest.raises(NotFoundError):
            triggers.revoke_trigger(store, actor="root", flag="bot_smoke", name="nope")

    def test_token_is_not_stored_or_audited(self, store: Store) -> None:
        start(store)
        made = triggers.create_trigger(store, actor="root", flag="bot_smoke", name="am")
        assert made.token not in repr(store.dump())

    def test_bad_action_and_unknown_flag(self, store: Store) -> None:
        start(store)
        with pytest.raises(ValidationError, match="valid: pause, rollback, disable"):
            triggers.create_trigger(store, actor="r", flag="bot_smoke", name="x", action="nuke")
        with pytest.raises(NotFoundError):
            triggers.create_trigger(store, actor="r", flag="nope", name="x")
