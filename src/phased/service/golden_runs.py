"""Golden runs reported to phased: recorded with their build, evidence for a stage.

``phased golden test DIR --report SUITE --flag KEY --build V`` (or ``POST
/api/v1/golden-runs``) records the run. When the flag has a rollout and a
stage still ahead requires that suite (``golden: [SUITE]`` in the plan), a
passing run ticks the stage's ``golden: SUITE`` item with the run as evidence
(``golden-run:ID``) and a failing run withdraws any earlier tick, so the stage
cannot start on stale evidence. Both are audited as ``golden.report``.
"""

from __future__ import annotations

from phased.core import rollout_state as rs
from phased.core.flags import check_key
from phased.core.rollout_state import RolloutPhase
from phased.core.stage_entry import golden_item
from phased.errors import NotFoundError, ValidationError
from phased.service import rollout_records as records
from phased.service.base import mutation
from phased.store import golden_runs as repo
from phased.store.engine import Store
from phased.store.golden_runs import GoldenRunRecord

__all__ = [
    "MAX_FAILURE_LINES",
    "GoldenRunRecord",
    "get_run",
    "list_runs",
    "report",
]

MAX_FAILURE_LINES = 50


def report(
    store: Store,
    *,
    actor: str | None,
    suite: str,
    build: str,
    mode: str,
    passed: bool,
    counts: dict[str, int],
    failures: list[str],
    flag: str | None = None,
    stage: str | None = None,
) -> GoldenRunRecord:
    """Record one golden run; tick (or withdraw) the stage item it is evidence for.

    The stage is ``stage`` when given (it must be ahead and list the suite),
    else the next stage ahead that lists the suite.

    Raises:
        ValidationError: a malformed suite, an empty build, an unknown mode.
        NotFoundError: ``flag`` names no rollout.
    """
    try:
        check_key(suite, "golden suite")
    except ValueError as exc:
        raise ValidationError(str(exc), field="suite") from None
    if len(build) > 200 or any(ord(c) < 32 for c in build):
        raise ValidationError(
            f"at most 200 printable characters (got {build[:40]!r}…)", field="build"
        )
    if any("\x00" in line for line in failures):
        failures = [line.replace("\x00", "") for line in failures]
    if not build.strip():
        raise ValidationError(
            "the build or version the run tested is required (e.g. --build v1.5.0 or a commit)",
            field="build",
        )
    if mode not in ("record", "verify", "test"):
        raise ValidationError(f"must be record, verify or test (got {mode!r})", field="mode")
    with mutation(store, actor) as m:
        rollout = None
        if flag is not None:
            rollout = records.latest(m.conn, flag)
            if rollout is None:
                raise NotFoundError(
                    f"no rollout of {flag!r}; apply a plan first or report without --flag",
                    field="flag",
                )
        new_id = repo.insert_run(
            m.conn,
            suite=suite,
            flag=flag,
            build=build.strip(),
            mode=mode,
            passed=passed,
            counts=dict(counts),
            failures=list(failures[:MAX_FAILURE_LINES]),
            actor=m.actor,
            at=m.now,
        )
        evidence = f"golden-run:{new_id}"
        ticked: str | None = None
        if rollout is not None and not rollout.state.phase.is_terminal:
            state = rollout.state
            first = 0 if state.phase is RolloutPhase.PENDING else state.stage + 1
            item = golden_item(suite)
            ahead = rollout.plan.stages[first:]
            if stage is not None:
                ahead = tuple(s for s in ahead if s.name == stage)
                if not ahead or suite not in ahead[0].golden:
                    raise ValidationError(
                        f"no stage ahead called {stage!r} requires the suite {suite!r}",
                        field="stage",
                    )
            for target in ahead:
                if suite not in target.golden:
                    continue
                if passed:
                    new = rs.tick_with_evidence(
                        state, target.name, item, m.actor, m.now, evidence=evidence
                    )
                else:
                    new = rs.untick(state, target.name, item)
                ticked = target.name
                if new != state:
                    records.save(m.conn, rollout, new, m.now)
                    verb = "ticked" if passed else "withdrawn"
                    records.add_history(
                        m.conn,
                        rollout.id,
                        at=m.now,
                        actor=m.actor,
                        kind="check" if passed else "uncheck",
                        source="golden",
                        state=new,
                        stage=target.name,
                        reason=f"{item} {verb} by {evidence} (build {build.strip()})",
                    )
                break
        if ticked is not None:
            repo.set_stage(m.conn, new_id, ticked)
        m.record(
            "golden.report",
            f"golden:{suite}",
            {
                "run": new_id,
                "flag": flag,
                "build": build.strip(),
                "mode": mode,
                "passed": passed,
                "counts": dict(counts),
                "stage": ticked,
            },
        )
        done = repo.get_run(m.conn, new_id)
    assert done is not None  # inserted in this transaction
    return done


def get_run(store: Store, run_id: int) -> GoldenRunRecord:
    """One reported run."""
    with store.read() as conn:
        run = repo.get_run(conn, run_id)
    if run is None:
        raise NotFoundError(f"no golden run {run_id}", field="id")
    return run


def list_runs(store: Store, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
    """Reported runs, newest first."""
    with store.read() as conn:
        return repo.newest(conn, suite=suite, limit=limit)
