"""What a running plan owns: refused deletions and decided drift.

Every write to a flag goes through :meth:`phased.service.base.Mutation.commit`,
which calls :func:`check` before writing. Two rules, whoever asks (CLI, API,
dashboard, ``flags apply``):

- A flag with a rollout that is not over (pending, running or paused) cannot
  be deleted: the message names the rollout and the command that ends it.
- A manual change that moves the audience of a flag in an environment its
  rollout runs in (percentage, rules, kill switch, default, or overrides
  reaching more than one context) is *drift*. It is refused unless the
  caller passes ``force``; forced, it is audited as forced drift and the
  rollout is paused with a reason naming the change, until someone resumes
  it (``phased rollout resume``) or rolls it back and applies the plan again.

The engine's own writes (applying a stage, rolling back) are the plan's and
pass untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from phased.core.flags import FlagState, Override
from phased.errors import ConflictError
from phased.service import rollout_records as records
from phased.service.diff import EntityChange

if TYPE_CHECKING:
    from phased.core.flags import FlagSet
    from phased.service.base import Mutation
    from phased.service.rollout_records import Rollout

ONE_CONTEXT = frozenset({"user", "session"})
"""Override attributes that name one context; any other (``org=acme``) reaches many."""


@dataclass(frozen=True, slots=True)
class Drift:
    """A forced manual change to a flag a rollout controls."""

    rollout: Rollout
    environment: str
    what: str

    @property
    def reason(self) -> str:
        """The rollout's hold reason."""
        return (
            f"forced drift in {self.environment}: {self.what}; resume with `phased rollout "
            f"resume {self.rollout.flag}` to let the plan go on"
        )


def _overrides_moved(before: tuple[Override, ...], after: tuple[Override, ...]) -> int:
    old = {(o.attribute, o.value): o for o in before}
    new = {(o.attribute, o.value): o for o in after}
    moved = 0
    for key in set(old) | set(new):
        if old.get(key) != new.get(key):
            moved += 1 if key[0] in ONE_CONTEXT else 2
    return moved


def moves(before: FlagState, after: FlagState) -> list[str]:
    """What in ``after`` moves the audience of ``before`` (empty: nothing a plan owns)."""
    out = []
    if before.enabled != after.enabled:
        out.append(f"kill switch {'released' if after.enabled else 'engaged'}")
    if before.rollout != after.rollout:
        out.append(f"rollout {before.rollout:g} % -> {after.rollout:g} %")
    if before.rules != after.rules:
        out.append(f"rules ({len(before.rules)} -> {len(after.rules)})")
    if before.default != after.default:
        out.append(f"default {before.default} -> {after.default}")
    if _overrides_moved(before.overrides, after.overrides) > 1:
        out.append("overrides reaching more than one context")
    return out


def check(
    m: Mutation,
    before: FlagSet,
    after: FlagSet,
    changes: list[EntityChange],
    *,
    by_plan: bool = False,
) -> list[Drift]:
    """Refuse what a running rollout forbids; return the forced drift to hold the rollouts for.

    Raises:
        ConflictError: a flag with a running rollout would be deleted, or a change
            moves its audience without ``force`` (field ``force``).
    """
    drift: list[Drift] = []
    for change in changes:
        if change.kind != "flag":
            continue
        rollout = records.active(m.conn, change.key)
        if rollout is None:
            continue
        if change.op == "delete":
            raise ConflictError(
                f"flag {change.key!r} has rollout #{rollout.id} ({rollout.phase} at stage "
                f"{rollout.stage.name}, plan {rollout.plan_path}); end it first with "
                f"`phased rollout rollback {change.key} --reason ...` (or let it complete), "
                "then delete the flag",
                field="flag",
            )
        if by_plan or change.op != "update":
            continue
        old_flag, new_flag = before.flags[change.key], after.flags[change.key]
        for env in change.environments:
            if env not in rollout.environments:
                continue
            what = moves(old_flag.state(env), new_flag.state(env))
            if not what:
                continue
            text = ", ".join(what)
            if not m.force:
                raise ConflictError(
                    f"flag {change.key!r} in {env} is controlled by rollout #{rollout.id} "
                    f"(plan {rollout.plan_path}, {rollout.phase} at stage {rollout.stage.name}); "
                    f"this change would move its audience ({text}). Pass --force (API: "
                    '"force": true) to change it anyway: the rollout is then held until '
                    f"someone resumes it; or pause or roll back the rollout first",
                    field="force",
                )
            drift.append(Drift(rollout, env, text))
    return drift


def hold(m: Mutation, drift: list[Drift], action: str) -> None:
    """Pause each rollout a forced change drifted, with the change as its reason."""
    from phased.core.decide import AlertNote, DecisionKind
    from phased.core.rollout_state import pause
    from phased.service.plan_rollouts import apply_in
    from phased.service.rollout_controls import manual_decision

    done: set[int] = set()
    for item in drift:
        if item.rollout.id in done:
            continue
        done.add(item.rollout.id)
        rollout = records.load(m.conn, item.rollout.id)
        reason = f"{action} by {m.actor}: {item.reason}"
        state = pause(rollout.state, m.actor, reason, m.now)
        note = AlertNote(severity="warning", key=f"drift:{m.now.isoformat()}", message=state.reason)
        decision = manual_decision(
            rollout, DecisionKind.PAUSE, state.reason, state=state, at=m.now, alerts=(note,)
        )
        apply_in(
            m,
            rollout,
            decision,
            source="forced",
            name="pause",
            touch_flag=False,
            details={"drift": item.what, "environment": item.environment, "action": action},
        )
