"""A rollout at a glance: reads what :func:`phased.core.summary.summarize` needs, once.

The CLI (``phased rollout status KEY``), the API (``GET /api/v1/rollouts/{flag}``
carries it as ``summary``) and the dashboard all show this one summary, so they
use the same words and numbers. A finished rollout has no live decision; its
last stage is judged again at the moment it ended (as the report does), so a
rolled-back rollout still shows the trigger that fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phased.core.decide import Decision, decide
from phased.core.gates import Observations
from phased.core.summary import RolloutSummary, summarize
from phased.service import outcomes
from phased.service import rollout_records as records
from phased.service.rollout_records import Rollout
from phased.service.rollout_report import judge_run
from phased.store.engine import Store


@dataclass(frozen=True, slots=True)
class Glance:
    """The rollout, the engine's decision now and the summary of both."""

    rollout: Rollout
    decision: Decision
    """The decision the summary read (a finished rollout's last stage judged again)."""
    live: Decision
    """What the engine would decide now (``GET /api/v1/rollouts/{flag}``'s ``decision``)."""
    summary: RolloutSummary


def _glance(rollout: Rollout, metrics: Observations, store: Store) -> Glance:
    now = store.clock()
    decision = decide(rollout.plan, rollout.state, metrics, now)
    judged = decision
    runs = rollout.state.runs
    if rollout.state.phase.is_terminal and runs and metrics.earlier:
        last = metrics.earlier[-1]
        evaluations = judge_run(rollout.plan, rollout, runs[-1], last, now)
        judged = decision.model_copy(update={"evaluations": evaluations})
    summary = summarize(rollout.plan, rollout.state, judged, metrics, now)
    return Glance(rollout, judged, decision, summary)


def glance(store: Store, flag: str) -> Glance:
    """The flag's latest rollout at a glance (nothing is written)."""
    with store.read() as conn:
        rollout = records.require(conn, flag, going=False)
        metrics = outcomes.observations(
            conn, rollout.flag, rollout.state.runs, store.clock(), rollout_id=rollout.id
        )
    return _glance(rollout, metrics, store)


def summary_dict(store: Store, flag: str) -> dict[str, Any]:
    """The summary in its JSON form (what the API serves; the CLI prints it)."""
    return glance(store, flag).summary.to_dict()


def glance_all(store: Store) -> list[Glance]:
    """The latest rollout of every flag, at a glance (going ones first, then by flag)."""
    with store.read() as conn:
        latest: dict[str, Rollout] = {}
        for rollout in records.all_rollouts(conn):
            latest.setdefault(rollout.flag, rollout)
        read = [
            (
                r,
                outcomes.observations(conn, r.flag, r.state.runs, store.clock(), rollout_id=r.id),
            )
            for r in latest.values()
        ]
    out = [_glance(r, m, store) for r, m in read]
    out.sort(key=lambda g: (not g.rollout.active, g.rollout.flag))
    return out
