"""Engine pass cost: one reconcile pass over a 7-day stage, reading every window vs rollups.

The store: SQLite in a temporary directory. One flag, one rollout whose first
stage (5 %, ``min_duration: 14d``, so it holds) has been running for 7 days,
with rollback triggers comparing ``error_rate`` and ``latency_p95_ms`` with the
control arm. Its outcome windows are written straight into ``outcome_windows``:
one window per arm per 10-second slot for the 7 days, 60,480 slots × 2 arms =
120,960 rows, at 200 requests a minute (about 2 candidate and 31 control
requests per slot, 1 % errors, lognormal latency, a few distinct users each).

Measured, on the same store:

* **full re-read** (``Engine(rollup_lateness=None)``, the engine before
  rollups): every pass merges all 120,960 windows.
* **rollups, first pass** (``Engine()``): seals the 7 days into the rollup
  (in 6-hour write transactions) and then reads it: paid once per stage run.
* **rollups, steady state**: each pass, 10 s later, with one new window per
  arm ingested between passes; the pass reads the rollup plus the windows of
  the last ~5 minutes and seals once a minute.

Each row is the median (and p90) of ``--passes`` timed passes; the decisions
of both modes are checked to be identical. Also timed: the metrics read alone
(``outcomes.observations``), which is the part rollups change.

Run: ``.venv/bin/python benchmarks/engine.py`` (``--results
benchmarks/results/engine.md`` rewrites the results page; ``--days 1`` for a
quick look).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.engine.clock import VirtualClock
from phased.engine.loop import Engine, PassReport
from phased.obs.log import configure_logging
from phased.service import flags, members, outcomes
from phased.service import plan_rollouts as pr
from phased.store.engine import Store, open_store
from phased.store.tables_rollouts import outcome_windows

PLAN = """\
flag: checkout
environment: prod
stages:
  - name: canary
    audience: 5
    min_duration: 14d
    min_samples: 1000
    gates:
      - {metric: error_rate, below: 0.05}
  - name: full
    audience: 100
rollback:
  - {metric: error_rate, compare: control}
  - {metric: latency_p95_ms, compare: control}
"""
START = datetime(2026, 11, 1, tzinfo=UTC)
SLOTS_PER_DAY = 8_640


def _window(rng: random.Random, requests: int) -> dict[str, Any]:
    agg = Aggregate()
    for _ in range(requests):
        agg.record(
            latency_ms=rng.lognormvariate(4.787, 0.731),  # median 120 ms, p95 ~400 ms
            error=rng.random() < 0.01,
            cost_usd=0.002,
            user=f"u{rng.randrange(50_000)}",
        )
    return agg.to_dict()


def build(path: Path, days: float, clock: VirtualClock) -> tuple[Store, int]:
    """A store with the rollout and ``days`` of windows per arm; returns it and the slot count."""
    store = open_store(f"sqlite:///{path}", environments=("prod",), clock=clock)
    flags.create_flag(store, actor="bench", key="checkout")
    members.add_member(store, actor="root", name="root", roles=["admin"])
    pr.apply_plan(store, actor="bench", text=PLAN)
    rng = random.Random(7)
    templates = {
        Arm.CANDIDATE: [_window(rng, rng.choice((1, 2, 2, 3))) for _ in range(64)],
        Arm.CONTROL: [_window(rng, rng.randint(27, 35)) for _ in range(64)],
    }
    slots = int(days * SLOTS_PER_DAY)
    first = slot_of(START.timestamp())
    at = START
    batch: list[dict[str, Any]] = []
    with store.write() as conn:
        for i in range(slots):
            for arm, pool in templates.items():
                data = pool[i % len(pool)]
                batch.append(
                    {
                        "flag": "checkout",
                        "environment": "prod",
                        "arm": arm.value,
                        "stage": "canary",
                        "slot": first + i,
                        "requests": data["requests"],
                        "errors": data["errors"],
                        "data": data,
                        "updated_at": at,
                    }
                )
            if len(batch) >= 10_000:
                conn.execute(outcome_windows.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(outcome_windows.insert(), batch)
    clock.advance(timedelta(seconds=slots * 10))
    return store, slots


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000.0, out


def _read_metrics(store: Store, now: datetime, *, rollups: bool) -> None:
    with store.read() as conn:
        for r in pr.list_rollouts(store, active_only=True):
            outcomes.observations(
                conn, r.flag, r.state.runs, now, rollout_id=r.id if rollups else None
            )


def _reasons(report: PassReport) -> list[tuple[str, str]]:
    return [(o.decision, o.reason) for o in report.outcomes]


def _feed_one_slot(store: Store, clock: VirtualClock, n: int) -> None:
    rng = random.Random(n)
    slot = slot_of(clock.now().timestamp())
    windows = []
    for arm, requests in ((Arm.CANDIDATE, 2), (Arm.CONTROL, 31)):
        key = OutcomeKey("checkout", "prod", arm, "canary", slot)
        windows.append((key, Aggregate.from_dict(_window(rng, requests))))
    outcomes.ingest(store, f"steady-{n}", windows)


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def run(days: float, passes: int) -> dict[str, Any]:
    """Build the store, time both modes, and return the numbers."""
    clock = VirtualClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, slots = build(Path(tmp) / "bench.db", days, clock)
        build_s = time.perf_counter() - t0
        size_mb = (Path(tmp) / "bench.db").stat().st_size / 1e6
        try:
            full_engine = Engine(store, clock=clock, rollup_lateness=None)
            full_ms, full_read_ms = [], []
            reference: list[tuple[str, str]] = []
            for _ in range(passes):
                ms, report = _timed(full_engine.run_once)
                assert isinstance(report, PassReport)
                assert not report.errors, report.errors
                full_ms.append(ms)
                reference = _reasons(report)
                full_read_ms.append(
                    _timed(lambda: _read_metrics(store, clock.now(), rollups=False))[0]
                )

            engine = Engine(store, clock=clock)
            first_ms, report = _timed(engine.run_once)
            assert isinstance(report, PassReport)
            assert not report.errors, report.errors
            assert _reasons(report) == reference, (_reasons(report), reference)
            steady_ms, steady_read_ms = [], []
            for n in range(max(passes, 30)):
                clock.advance(10)
                _feed_one_slot(store, clock, n)
                ms, report = _timed(engine.run_once)
                assert isinstance(report, PassReport)
                assert not report.errors, report.errors
                steady_ms.append(ms)
                steady_read_ms.append(
                    _timed(lambda: _read_metrics(store, clock.now(), rollups=True))[0]
                )
            # The same moment judged both ways: the rollup changes nothing the engine decides.
            same = Engine(store, clock=clock, rollup_lateness=None).run_once()
            assert _reasons(same) == _reasons(engine.run_once())
        finally:
            store.close()
    return {
        "slots": slots,
        "windows": slots * 2,
        "build_s": build_s,
        "size_mb": size_mb,
        "full": _stats(full_ms),
        "full_read": _stats(full_read_ms),
        "first": first_ms,
        "steady": _stats(steady_ms),
        "steady_read": _stats(steady_read_ms),
        "decision": reference[0] if reference else ("?", "?"),
    }


def _git() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src/phased/engine", "src/phased/service"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev}{' + uncommitted changes' if dirty else ''}"


def render(r: dict[str, Any], days: float, passes: int) -> str:
    """The results page."""
    full_med, full_p90 = r["full"]
    steady_med, steady_p90 = r["steady"]
    lines = [
        "# Engine pass benchmark: results",
        "",
        "Produced by `python benchmarks/engine.py --results benchmarks/results/engine.md`; "
        "the scenario is in the script's docstring.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- source: git {_git()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- store: SQLite, {days:g} days of windows: {r['slots']:,} slots × 2 arms = "
        f"{r['windows']:,} rows ({r['size_mb']:.0f} MB, built in {r['build_s']:.1f} s)",
        f"- timed passes: {passes} full re-read, {max(passes, 30)} steady state; "
        f"decision every pass: {r['decision'][0]} ({r['decision'][1][:90]}…)",
        "",
        "| one reconcile pass | median ms | p90 ms | metrics read alone, median ms |",
        "|---|---:|---:|---:|",
        f"| full re-read (before) | {full_med:,.1f} | {full_p90:,.1f} | {r['full_read'][0]:,.1f} |",
        f"| rollups, first pass (seals {days:g} days once) | {r['first']:,.1f} | — | — |",
        f"| rollups, steady state (after) | {steady_med:,.1f} | {steady_p90:,.1f} | "
        f"{r['steady_read'][0]:,.1f} |",
        "",
        f"Steady-state pass: {full_med / steady_med:,.0f}× faster than the full re-read. "
        "Both modes reached the same decisions with the same reasons on the same store.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print, optionally write the results page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=float, default=7.0, help="Days of windows (default 7).")
    parser.add_argument("--passes", type=int, default=5, help="Timed full re-read passes.")
    parser.add_argument("--results", type=Path, help="Write the results page here.")
    args = parser.parse_args(argv)
    configure_logging(level="warning")  # a debug line per hold would be timed too
    results = run(args.days, args.passes)
    page = render(results, args.days, args.passes)
    sys.stdout.write(page)
    if args.results is not None:
        args.results.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
