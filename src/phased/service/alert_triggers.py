"""Alert triggers: inbound endpoints an alerting system calls to stop a rollout.

A trigger belongs to one flag (or to ``*``: the alert's ``flag`` label picks
the flag). Its token is shown once at creation and only its hash is kept; the
URL ``/api/v1/triggers/fire/<token>`` is unguessable, and the same token also
works as ``Authorization: Bearer <token>`` on ``/api/v1/triggers/fire``.

A firing alert pauses, rolls back or disables the flag's rollout (the
trigger's ``action``, else the plan's ``on_alert.action``), applied like a
person's decision: flag state, rollout state, history, alert and audit in one
transaction. A resolved alert resumes only a rollout this trigger paused, and
only when the plan says ``on_alert.resume_on_resolved: true``. Every call is
audited (``trigger.fire``), whatever it did. See docs/alert-triggers.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from phased.core.alert_payloads import InboundAlert, parse_alerts
from phased.core.decide import AlertNote, DecisionKind, RollbackTo
from phased.core.flags import check_key
from phased.core.rollout_state import RolloutPhase, pause, resume, rolled_back
from phased.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from phased.service import rollout_records as records
from phased.service.base import Mutation, mutation, require_flag
from phased.service.plan_rollouts import apply_in
from phased.service.rollout_controls import _manual
from phased.service.tokens import hash_secret
from phased.store import alert_triggers as triggers
from phased.store.alert_triggers import AlertTrigger
from phased.store.engine import Store

TOKEN_PREFIX = "phd_trg_"
ANY_FLAG = "*"
ACTIONS = ("pause", "rollback", "disable")

# The API and the CLI reach the stored record through this use-case module.
__all__ = [
    "ACTIONS",
    "ANY_FLAG",
    "TOKEN_PREFIX",
    "AlertTrigger",
    "CreatedTrigger",
    "FireResult",
    "Fired",
    "check_action",
    "create_trigger",
    "fire",
    "list_triggers",
    "revoke_trigger",
]


@dataclass(frozen=True, slots=True)
class CreatedTrigger:
    """A new trigger and its token, shown this once."""

    trigger: AlertTrigger
    token: str

    @property
    def path(self) -> str:
        """The URL path to give the alerting system."""
        return f"/api/v1/triggers/fire/{self.token}"


@dataclass(frozen=True, slots=True)
class Fired:
    """What one call did, per flag."""

    trigger: str
    flag: str
    did: str
    """``paused``, ``rolled back``, ``disabled``, ``resumed``, or why nothing happened."""
    alerts: tuple[str, ...] = ()
    rollout: int | None = None


@dataclass(frozen=True, slots=True)
class FireResult:
    """The answer to an alerting system."""

    received: int
    matched: int
    results: list[Fired] = field(default_factory=list)


def check_action(action: str | None) -> None:
    """Refuse an unknown action in the service's words (an HTTP client checks it first too)."""
    if action is not None and action not in ACTIONS:
        raise ValidationError(
            f"unknown action {action!r}; valid: {', '.join(ACTIONS)} (or none: the plan's "
            "on_alert.action)",
            field="action",
        )


def create_trigger(
    store: Store,
    *,
    actor: str | None,
    flag: str,
    name: str,
    action: str | None = None,
    match: Mapping[str, str] | None = None,
) -> CreatedTrigger:
    """Create a trigger for ``flag`` (or ``*``) and return its token once."""
    try:
        check_key(name, "trigger name")
    except ValueError as exc:
        raise ValidationError(str(exc), field="name") from None
    check_action(action)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with mutation(store, actor) as m:
        if flag != ANY_FLAG:
            require_flag(m.snapshot.flagset, flag)
        if triggers.named(m.conn, flag, name) is not None:
            raise ConflictError(
                f"flag {flag!r} already has a trigger named {name!r}; revoke it or pick another",
                field="name",
            )
        created = triggers.insert_trigger(
            m.conn,
            flag=flag,
            name=name,
            token_hash=hash_secret(token),
            action=action,
            match=dict(match or {}),
            created_by=m.actor,
            created_at=m.now,
        )
        m.record(
            "trigger.create",
            f"trigger:{flag}:{name}",
            {"flag": flag, "name": name, "action": action, "match": dict(match or {})},
        )
    return CreatedTrigger(created, token)


def list_triggers(store: Store, flag: str | None = None) -> list[AlertTrigger]:
    """Every trigger (of one flag), oldest first."""
    with store.read() as conn:
        return triggers.all_triggers(conn, flag)


def revoke_trigger(store: Store, *, actor: str | None, flag: str, name: str) -> AlertTrigger:
    """Disable a trigger: its URL stops working at once."""
    with mutation(store, actor) as m:
        found = triggers.named(m.conn, flag, name)
        if found is None:
            raise NotFoundError(f"no trigger {name!r} on flag {flag!r}", field="name")
        triggers.disable_trigger(m.conn, found.id)
        m.record("trigger.revoke", f"trigger:{flag}:{name}", {"flag": flag, "name": name})
        return replace(found, enabled=False)


def _lookup(conn: Connection, token: str) -> AlertTrigger:
    if not token.startswith(TOKEN_PREFIX):
        raise AuthenticationError("not a trigger token (they start with phd_trg_)")
    found = triggers.by_token_hash(conn, hash_secret(token))
    if found is None or not found.enabled:
        raise AuthenticationError("unknown or revoked trigger token")
    return found


def fire(store: Store, token: str, body: object) -> FireResult:
    """Act on an alerting system's call (see the module docs).

    Raises:
        AuthenticationError: the token is unknown or revoked.
        ValidationError: the body is not a supported payload.
    """
    with store.read() as conn:
        trigger = _lookup(conn, token)
    alerts = parse_alerts(body)
    wanted = [a for a in alerts if a.matches(trigger.match)]
    by_flag: dict[str, list[InboundAlert]] = {}
    for alert in wanted:
        flag = trigger.flag if trigger.flag != ANY_FLAG else alert.labels.get("flag", "")
        by_flag.setdefault(flag, []).append(alert)
    result = FireResult(received=len(alerts), matched=len(wanted))
    for flag, group in by_flag.items():
        result.results.append(_act(store, trigger, flag, group))
    return result


def _describe(alerts: list[InboundAlert]) -> str:
    return "; ".join(
        f"alert {a.name} {a.status}" + (f": {a.summary}" if a.summary else "") for a in alerts
    )


def _act(store: Store, trigger: AlertTrigger, flag: str, alerts: list[InboundAlert]) -> Fired:
    names = tuple(a.name for a in alerts)
    actor = f"alert:{trigger.name}"
    firing = [a for a in alerts if a.status == "firing"]
    with mutation(store, actor) as m:
        if not flag:
            did = "nothing: the alert has no `flag` label (this trigger serves every flag)"
            rollout = None
        else:
            rollout = records.active(m.conn, flag)
            if rollout is None:
                did = f"nothing: flag {flag!r} has no rollout in progress"
            elif firing:
                did = _stop(m, trigger, rollout, firing)
            else:
                did = _resolved(m, trigger, rollout, alerts)
        m.record(
            "trigger.fire",
            f"trigger:{trigger.flag}:{trigger.name}",
            {
                "flag": flag,
                "rollout": rollout.id if rollout is not None else None,
                "did": did,
                "alerts": [
                    {"name": a.name, "status": a.status, "labels": a.labels, "format": a.format}
                    for a in alerts
                ],
            },
        )
    return Fired(trigger.name, flag, did, names, rollout.id if rollout is not None else None)


def _stop(
    m: Mutation, trigger: AlertTrigger, rollout: records.Rollout, firing: list[InboundAlert]
) -> str:
    action = trigger.action or rollout.plan.on_alert.action
    why = _describe(firing)
    details = {"trigger": trigger.name, "alerts": [a.name for a in firing]}
    stage = rollout.stage.name
    if action == "pause":
        if rollout.state.phase is RolloutPhase.PAUSED:
            return "nothing: already paused"
        new = pause(rollout.state, m.actor, why, m.now)
        note = AlertNote(severity="warning", key=f"pause:{stage}", message=new.reason)
        decision = _manual(
            rollout, DecisionKind.PAUSE, new.reason, state=new, at=m.now, alerts=(note,)
        )
        apply_in(m, rollout, decision, source="alert", details=details)
        return "paused"
    to = RollbackTo.DISABLED if action == "disable" else RollbackTo.ZERO
    verb = "disabled" if to is RollbackTo.DISABLED else "rolled back"
    reason = f"{verb} by {m.actor} at stage {stage}: {why}"
    new = rolled_back(rollout.state, reason, m.now)
    note = AlertNote(severity="critical", key=f"rollback:{stage}", message=reason)
    decision = _manual(
        rollout,
        DecisionKind.ROLLBACK,
        reason,
        state=new,
        at=m.now,
        alerts=(note,),
        rollback_to=to,
    )
    started = rollout.state.stage_started_at is not None
    apply_in(m, rollout, decision, source="alert", touch_flag=started, details=details)
    return verb


def _resolved(
    m: Mutation, trigger: AlertTrigger, rollout: records.Rollout, alerts: list[InboundAlert]
) -> str:
    if not rollout.plan.on_alert.resume_on_resolved:
        return "nothing: resolved; the plan does not resume on resolve (on_alert)"
    paused_by_us = (rollout.state.paused_reason or "").startswith(f"paused by {m.actor}:")
    if rollout.state.phase is not RolloutPhase.PAUSED or not paused_by_us:
        return "nothing: resolved; the rollout was not paused by this trigger"
    new = resume(rollout.state, m.actor, m.now)
    decision = _manual(rollout, DecisionKind.HOLD, new.reason, state=new, at=m.now)
    apply_in(
        m,
        rollout,
        decision,
        source="alert",
        name="resume",
        details={"trigger": trigger.name, "alerts": [a.name for a in alerts]},
    )
    return "resumed"
