"""The judge benchmark: issues 3 and 10's targets, phased beside Argo, Flagger and Kayenta.

Same traffic, same seeds for every judge: 200 requests a minute, candidate
share 5 % (25 % in the last case), control error rate 1 %, latency lognormal
with median 120 ms and p95 400 ms, the regression present from minute 0, 120
minutes per run. The first table has independent requests (issue 3); the
second realistic traffic (issue 10, ``benchmarks/judges/realistic.py``):
2,000 users with heavy-tailed activity, sticky assignment, troubled users,
bots, slow users, shared incidents and a daily cycle. For each case and judge:
the share of runs rolled back within 120 minutes and the median minute of
rollback over all runs (a run never rolled back counts as later than 120, so a
median above 120 prints ">120").

    python benchmarks/judge.py                 # 1,000 runs per case, writes results/judge.md
    python benchmarks/judge.py --runs 200 --judges phased
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.judges import argo, flagger, kayenta, phased_judge
from benchmarks.judges.realistic import HEAVY, REAL_CASES, RealCase, generate_real
from benchmarks.judges.traffic import CASES, Case, Run, generate

JUDGES: dict[str, Callable[[Run], int | None]] = {
    "phased": phased_judge.judge,
    "phased-api": phased_judge.judge_api,
    "argo": argo.judge,
    "flagger": flagger.judge,
    "kayenta": kayenta.judge,
}
JUDGE_TITLES = {
    "phased": "phased (decide, default plan)",
    "phased-api": "phased (analysis API directly)",
    "argo": "Argo Rollouts (success-rate template)",
    "flagger": "Flagger (default analysis)",
    "kayenta": "Kayenta (NetflixACAJudge, Mann-Whitney)",
}


NOTES = """\
Notes:

- phased: `decide` with the plan in `benchmarks/judges/phased_judge.py` (rollback
  triggers `error_rate` and `latency_p95_ms` with `compare: control`, default
  `analysis.false_rollback_rate` 0.005, split 3 : 1 between the rate and the
  latency test: 0.00375 and 0.00125). `judge_api` (`--judges phased-api`) calls
  `compare_metric` itself; on the healthy, 5x and 2x cases it gave the same
  numbers as `decide` (0.1 %, 15 min, 35.0 %); it was not rerun on the others.
- The rate test now rejects at its exact threshold instead of Ville's 1/alpha:
  the smallest threshold whose probability of ever being reached by a healthy
  candidate, computed by dynamic programming over the labels' null law (which
  does not involve the base rate), is at most alpha, with stage ends allowed at
  any moment and later stages at 1/(0.9 alpha) (docs/analysis.md, "The exact
  threshold for rates"). At a 5 % share it is 184 instead of 267 (0.37 nats),
  at 25 % 208. Against Ville's 1/alpha with the same prior and split: 5x 16 -> 15
  min (49.1 -> 52.1 % of runs by minute 15), 2x 30.7 -> 35.0 %, 2x at 25 % share
  44 -> 43 min (51.8 -> 52.9 % by minute 45); healthy 0 -> 1 of 1,000 runs;
  p95 doubled unchanged (the latency test keeps 1/alpha).
- One target is missed: 2x error rate, 35.0 % of runs rolled back within 120
  minutes against 40 %. The best growth any valid e-process has here is 0.036
  nats a minute, 4.3 nats in 120 minutes, against a threshold of 5.2 nats
  (ln 184). The exact threshold bought 4.3 points; the remaining 5 points would
  take about 0.5 nats more on the 2x component, i.e. moving prior weight from 5x
  to 2x-2.5x, which costs the 5x case about as much (it has 2.1 points of room
  at minute 15, 1.3 standard errors). The prior was not retuned.
- Argo Rollouts: the documented `success-rate` template (interval 5m,
  `result[0] >= 0.95`, failureLimit 3) has no latency metric.
- Flagger: `request-success-rate` min 99 and `request-duration` (P99) max 500 ms
  every minute, threshold 5; a healthy canary's P99 is about 660 ms, so it
  fails every healthy release.
- Kayenta: per-minute series against a baseline of the canary's size, judged
  every 30 minutes; per-minute error rates of 10 requests are mostly 0, so the
  Mann-Whitney confidence interval of the shift rarely leaves 0 and error
  regressions are almost never seen.
"""


def summarize(minutes: list[int | None]) -> tuple[float, float]:
    """(share rolled back, median minute over all runs; inf when most never roll back)."""
    times = np.array([math.inf if m is None else m for m in minutes], dtype=float)
    return float(np.mean(np.isfinite(times))), float(np.median(times))


TARGET_MINUTE = {
    "5x error rate": 18,
    "p95 doubled, median same": 10,
    "2x error rate, 25 % share": 50,
    "5x error rate, heavy users": 30,
}


def meets(case: Case, share: float, median: float) -> str:
    """Whether phased's numbers meet the case's target ("" where the figure is only reported)."""
    if case.name.startswith("healthy"):
        return "yes" if share <= 0.01 else "**no**"
    limit = TARGET_MINUTE.get(case.name)
    if limit is None:
        return "(reported)"
    return "yes" if median <= limit else "**no**"


def by_target(case: Case, minutes: list[int | None]) -> str:
    """How close a median target is: the share of runs rolled back by the target minute."""
    limit = TARGET_MINUTE.get(case.name)
    if limit is None:
        return ""
    share = sum(m is not None and m <= limit for m in minutes) / len(minutes)
    return f"{case.name}: {share:.1%} of runs rolled back by minute {limit}"


def fmt_median(value: float) -> str:
    return ">120" if not math.isfinite(value) else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--judges", default="phased,argo,flagger,kayenta")
    parser.add_argument("--cases", default="", help="case names separated by ; (default all)")
    parser.add_argument(
        "--out", default="", help="where to write the table (default results/judge.md, full runs)"
    )
    parser.add_argument(
        "--kayenta-runs",
        type=int,
        default=0,
        help="run Kayenta (the slowest judge) on the first N seeds only (default all)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. +runs")
    parser.add_argument("--dump", default="", help="also write every run's minute as JSON here")
    parser.add_argument("--traffic", default="iid,realistic", help="iid, realistic or both")
    args = parser.parse_args()
    judges = [j for j in args.judges.split(",") if j]
    kinds = set(args.traffic.split(","))
    pool: list[Case] = [
        *(CASES if "iid" in kinds else ()),
        *(REAL_CASES if "realistic" in kinds else ()),
    ]
    cases = [c for c in pool if not args.cases or c.name in args.cases.split(";")]

    results: dict[tuple[str, str], tuple[float, float]] = {}
    margins: list[str] = []
    timings: dict[str, float] = dict.fromkeys(judges, 0.0)
    dumped: dict[str, dict[str, list[int | None]]] = {}
    for case in cases:
        outcomes: dict[str, list[int | None]] = {j: [] for j in judges}
        for seed in range(args.first_seed, args.first_seed + args.runs):
            run = generate_real(case, seed) if isinstance(case, RealCase) else generate(case, seed)
            for j in judges:
                if (
                    j == "kayenta"
                    and args.kayenta_runs
                    and seed >= args.first_seed + args.kayenta_runs
                ):
                    continue
                start = time.perf_counter()
                outcomes[j].append(JUDGES[j](run))
                timings[j] += time.perf_counter() - start
        if "phased" in judges and by_target(case, outcomes["phased"]):
            margins.append(by_target(case, outcomes["phased"]))
        dumped[case.name] = outcomes
        for j in judges:
            results[(case.name, j)] = summarize(outcomes[j])
            share, median = results[(case.name, j)]
            print(
                f"{case.name:28} {j:8} rolled back {share:6.1%}  median {fmt_median(median)}",
                flush=True,
            )

    header = [
        "| case | target | "
        + " | ".join(JUDGE_TITLES[j] for j in judges)
        + " | phased meets target |",
        "|---|---|" + "---|" * len(judges) + "---|",
    ]
    lines = [
        "# Judge benchmark (issues 3 and 10 targets)",
        "",
        f"{args.runs:,} seeded runs per case; same traffic and seeds for every judge. "
        "Traffic: 200 requests/min (Poisson), candidate share 5 % unless stated, control "
        "error rate 1 %, latency lognormal median 120 ms / p95 400 ms, regression from "
        "minute 0, 120 minutes. Cells: share of runs rolled back within 120 min / median "
        "minute of rollback over all runs (>120: most runs were never rolled back).",
    ]
    if args.kayenta_runs and args.kayenta_runs < args.runs and "kayenta" in judges:
        lines += [
            "",
            f"Kayenta, the slowest judge, ran on the first {args.kayenta_runs:,} seeds of each "
            "case only (same traffic as the others on those seeds).",
        ]
    for title, kind in (
        ("Independent requests (each request its own unit)", Case),
        (
            f"Realistic traffic: {HEAVY}, sticky assignment by user; phased is given the "
            "per-unit breakdown and analyses by unit",
            RealCase,
        ),
    ):
        rows = [c for c in cases if type(c) is kind]
        if not rows:
            continue
        lines += ["", f"## {title}", "", *header]
        for case in rows:
            cells = []
            for j in judges:
                share, median = results[(case.name, j)]
                cells.append(f"{share:.1%} / {fmt_median(median)}")
            verdict = meets(case, *results[(case.name, "phased")]) if "phased" in judges else ""
            lines.append(
                f"| {case.name} | {case.target} | " + " | ".join(cells) + f" | {verdict} |"
            )
    lines += [
        "",
        "Judge time per run (CPU, this machine): "
        + ", ".join(
            f"{j} {timings[j] / (max(1, len(outcomes[j])) * len(cases)) * 1000:.1f} ms"
            for j in judges
        ),
        "",
        "How far phased's medians are from their targets (a median meets its target when "
        "at least 50 % of runs are rolled back by the target minute; the standard error of "
        f"such a share over {args.runs:,} runs is about "
        f"{math.sqrt(0.25 / args.runs):.1%}): " + "; ".join(margins) + ".",
        "",
        "Regenerate: `python benchmarks/judge.py` (needs the `bench` extra: numpy, scipy).",
        "",
        NOTES.rstrip(),
    ]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if args.dump:
        Path(args.dump).write_text(json.dumps({"first_seed": args.first_seed, "cases": dumped}))
    if args.out:
        Path(args.out).write_text(text)
        print(f"written to {args.out}")
    elif (
        args.runs >= 1000
        and {"phased", "argo", "flagger", "kayenta"} <= set(judges)
        and len(cases) == len(CASES) + len(REAL_CASES)
    ):
        out = Path(__file__).parent / "results" / "judge.md"
        out.write_text(text)
        print(f"written to {out}")


if __name__ == "__main__":
    main()
