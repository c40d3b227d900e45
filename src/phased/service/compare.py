"""Old/new comparison: stage modes for the SDK, mismatch samples, resolutions.

Samples arrive from ``client.compare`` (through the store or the API), are
kept per flag up to :data:`MAX_SAMPLES_PER_FLAG` (the oldest unresolved ones
give way), and are listed by ``phased compare mismatches KEY``. A person may
resolve one as "new behaviour is correct" (seed 004's discrepancy
resolution): the decision is audited as ``compare.resolve`` and a correction
window subtracts that mismatch from the stage's ``mismatch_rate``, so it stops
counting while the comparisons stay counted.
"""

from __future__ import annotations

from typing import Any

from phased.core.compare import CompareMode, DeprecationPhase, deprecation_at
from phased.core.flags import check_key
from phased.core.outcomes import MISMATCH_METRIC, Aggregate, Arm, OutcomeKey, slot_of
from phased.errors import ConflictError, NotFoundError, ValidationError
from phased.obs.redact import redact_secrets
from phased.service import rollout_records as records
from phased.service import rollups
from phased.service.base import mutation
from phased.store import compare_mismatches as repo
from phased.store import outcomes as outcomes_repo
from phased.store.compare_mismatches import Mismatch
from phased.store.engine import Store

__all__ = [
    "MAX_SAMPLES_PER_FLAG",
    "MAX_SAMPLE_CHARS",
    "Mismatch",
    "active_modes",
    "deprecation_phases",
    "list_mismatches",
    "record_mismatch",
    "resolve_mismatch",
]

MAX_SAMPLES_PER_FLAG = 200
MAX_SAMPLE_CHARS = 20_000


def active_modes(store: Store, environment: str) -> dict[str, str]:
    """flag → the compare mode of its stage in force in ``environment`` (stages that name one)."""
    out: dict[str, str] = {}
    with store.read() as conn:
        for rollout in records.all_rollouts(conn, active_only=True):
            started = rollout.state.stage_started_at is not None
            mode = rollout.stage.compare
            if started and mode is not None and rollout.stage_environment == environment:
                out[rollout.flag] = mode.value
    return out


def deprecation_phases(store: Store, environment: str) -> dict[str, str]:
    """flag → the deprecation phase its latest rollout is at in ``environment``.

    A completed rollout keeps its last stage's phase; a rolled-back one goes back
    to ``active`` (the old command is what runs again).
    """
    out: dict[str, str] = {}
    latest: dict[str, records.Rollout] = {}
    with store.read() as conn:
        for rollout in records.all_rollouts(conn):
            if rollout.flag not in latest or rollout.id > latest[rollout.flag].id:
                latest[rollout.flag] = rollout
    for rollout in latest.values():
        if rollout.stage_environment != environment:
            continue
        stages = rollout.plan.stages
        if all(s.deprecate is None for s in stages):
            continue
        phase = DeprecationPhase.ACTIVE
        state = rollout.state
        if state.phase.value != "rolled_back" and state.stage_started_at is not None:
            phase = deprecation_at([s.deprecate for s in stages], state.stage)
        out[rollout.flag] = phase.value
    return out


def _bounded(value: Any, field: str) -> Any:
    import json

    text = json.dumps(value, default=str)
    if len(text) > MAX_SAMPLE_CHARS:
        return {"truncated": text[:MAX_SAMPLE_CHARS], "field": field}
    return value


def record_mismatch(store: Store, sample: dict[str, Any]) -> int:
    """Keep one mismatch sample (redacted again here); returns its id.

    Raises:
        ValidationError: a sample without flag, environment or mode.
    """
    try:
        flag, environment = str(sample["flag"]), str(sample["environment"])
        mode = CompareMode(str(sample.get("mode", "shadow"))).value
        check_key(flag, "flag key")
        for what, text in (("environment", environment), ("stage", str(sample.get("stage") or ""))):
            if (
                len(text) > 64
                or any(ord(c) < 32 for c in text)
                or (what == "environment" and not text)
            ):
                raise ValueError(f"{what}: 1-64 printable characters (got {text!r})")
    except (KeyError, ValueError) as exc:
        raise ValidationError(
            f"a mismatch sample needs flag, environment and a mode (old, shadow, live, new): {exc}",
            field="sample",
        ) from None
    clean = redact_secrets(sample)
    diff = [str(line)[:2000] for line in (clean.get("diff") or [])][:200]
    with store.write() as conn:
        now = store.clock()
        new_id = repo.insert_sample(
            conn,
            flag=flag[:64],
            environment=environment[:64],
            stage=str(clean.get("stage") or "")[:64],
            mode=mode,
            context=_bounded(clean.get("context") or {}, "context"),
            old=_bounded(clean.get("old"), "old"),
            new=_bounded(clean.get("new"), "new"),
            diff=diff,
            at=now,
        )
        repo.trim(conn, flag, MAX_SAMPLES_PER_FLAG)
    return new_id


def list_mismatches(
    store: Store, flag: str, *, include_resolved: bool = False, limit: int = 50
) -> list[Mismatch]:
    """The flag's kept mismatch samples, newest first."""
    with store.read() as conn:
        return repo.newest(conn, flag, include_resolved=include_resolved, limit=limit)


def resolve_mismatch(store: Store, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
    """Mark a mismatch "new behaviour is correct": audited; it stops counting in the gate.

    Raises:
        ValidationError: no note saying why.
        NotFoundError: no such sample.
        ConflictError: it is resolved already.
    """
    if "\x00" in note:
        raise ValidationError("the note contains a NUL character", field="note")
    if not note.strip():
        raise ValidationError(
            "say why the new behaviour is correct (seed 004: 'document' the discrepancy), "
            'e.g. --note "new pipeline also labels duplicates"',
            field="note",
        )
    with mutation(store, actor) as m:
        sample = repo.get_sample(m.conn, mismatch_id)
        if sample is None:
            raise NotFoundError(f"no mismatch {mismatch_id}", field="id")
        if sample.resolved:
            raise ConflictError(
                f"mismatch {mismatch_id} was resolved by {sample.resolved_by} already", field="id"
            )
        repo.mark_resolved(m.conn, mismatch_id, actor=m.actor, at=m.now, note=note.strip())
        # A correction window: one mismatch fewer, the same number of comparisons.
        correction = Aggregate()
        correction.metrics[MISMATCH_METRIC] = [-1.0, 0.0]
        key = OutcomeKey(
            sample.flag, sample.environment, Arm.CANDIDATE, sample.stage, slot_of(m.now.timestamp())
        )
        outcomes_repo.merge_window(m.conn, key, correction, m.now)
        rollups.absorb(m.conn, {key: correction}, m.now)
        m.record(
            "compare.resolve",
            f"flag:{sample.flag}",
            {
                "mismatch": mismatch_id,
                "stage": sample.stage,
                "verdict": "new behaviour is correct",
                "note": note.strip(),
            },
        )
        done = repo.get_sample(m.conn, mismatch_id)
    assert done is not None  # read above, in this transaction
    return done
