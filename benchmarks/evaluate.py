"""Evaluation speed: phased against its peers, same flag, same users, one process.

The flag: ``role in [admin, pm]`` -> on, otherwise a 25 % rollout sticky on the
user. Each library evaluates it from its own offline source for 10,000
distinct users (mostly members, a few admins and PMs). Every row is checked
before it is timed: members get the flag about 25 % of the time, staff always.

Timing: each library's context objects are built outside the timer (that cost
is shown in its own column), then the users are evaluated in batches of 100
with the library call written inline in the loop; a batch's time divided by
100 is one sample. Repeats are interleaved (every repeat runs every library,
in a rotated order) so that load from other processes spreads over all rows;
the garbage collector is paused inside a timed pass, as ``timeit`` does.
Median and p90 are over all samples of all repeats.

Run: ``make bench``, ``.venv/bin/python benchmarks/evaluate.py`` or
``python -m benchmarks.evaluate`` from the repository root; ``--results
benchmarks/results/evaluate.md`` rewrites the results page.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.metadata
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Run as a script (`python benchmarks/evaluate.py`), the repository root is not on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.peers import PEERS, floor, installed, phased_rows
from benchmarks.peers.base import Adapter, Person, Share, measure_share, population

TARGET_NS = 500
TARGET_RATIO = 10.0
SHARE_TOLERANCE = 2.5
"""Points around 25 %: over 5 standard deviations for ~9,400 members."""

_DISTRIBUTIONS = (
    "phased",
    "mmh3",
    "growthbook",
    "launchdarkly-server-sdk",
    "UnleashClient",
    "yggdrasil-engine",
    "openfeature-sdk",
    "openfeature-provider-flagd",
    "flagsmith",
    "flagsmith-flag-engine",
)


@dataclass
class Row:
    """An adapter with its check result and its samples (ns per call)."""

    adapter: Adapter
    share: Share
    samples: list[float] = field(default_factory=list)
    context_ns: list[float] = field(default_factory=list)
    expected_on: int = 0

    @property
    def valid(self) -> bool:
        return self.share.ok(SHARE_TOLERANCE)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.samples, n=10)[-1]


def build_rows(workdir: Path, only: Sequence[str]) -> tuple[list[Adapter], list[str]]:
    """phased's rows, the floor, then every installed peer; and the problems met."""
    adapters = [*phased_rows.build(workdir), floor.build()]
    of_floor = floor.openfeature_floor()
    if of_floor is not None:
        adapters.append(of_floor)
    problems: list[str] = []
    for peer in PEERS:
        if only and not any(word in peer.name for word in only):
            continue
        if not installed(peer):
            problems.append(f"{peer.name}: not installed (pip install -e '.[bench]')")
            continue
        try:
            adapters.extend(peer.build(workdir))
        except Exception as exc:  # one broken peer must not hide the others
            problems.append(f"{peer.name}: failed to start: {type(exc).__name__}: {exc}")
    return adapters, problems


def time_pass(row: Row, people: Sequence[Person], batch: int) -> None:
    """One timed pass of every user through ``row``, appended as per-batch samples."""
    adapter = row.adapter
    t0 = time.perf_counter_ns()
    items = adapter.prepare(people)
    row.context_ns.append((time.perf_counter_ns() - t0) / len(people))
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    run, clock, on = adapter.run, time.perf_counter_ns, 0
    samples = row.samples
    gc.collect()
    gc.disable()
    try:
        for chunk in batches:
            start = clock()
            on += run(chunk)
            samples.append((clock() - start) / len(chunk))
    finally:
        gc.enable()
    adapter.settle()
    if on != row.expected_on:
        raise AssertionError(
            f"{adapter.name}: the timed loop counted {on} on, the check {row.expected_on}"
        )


def _fmt(ns: float) -> str:
    return f"{ns:,.0f}"


def table(rows: Sequence[Row], base: float) -> str:
    """The results as a Markdown table (readable in a terminal too)."""
    lines = [
        "| library | median ns | p90 ns | × phased | members on | staff on | context ns |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ctx = _fmt(statistics.median(row.context_ns)) if row.adapter.builds_context else "—"
        mark = "" if row.valid else " **CHECK FAILED**"
        lines.append(
            f"| {row.adapter.name}{mark} | {_fmt(row.median)} | {_fmt(row.p90)} "
            f"| {row.median / base:.2f}× | {row.share.member_on:.1f} % "
            f"| {row.share.staff_on:.0f} % | {ctx} |"
        )
    return "\n".join(lines)


def verdict(phased: Row, peers: Sequence[Row]) -> list[str]:
    """phased's distance to the two targets of issue 2."""
    med = phased.median
    lines = [
        f"phased is_enabled: median {_fmt(med)} ns — target ≤ {TARGET_NS} ns: "
        + (
            f"met ({_fmt(TARGET_NS - med)} ns to spare)"
            if med <= TARGET_NS
            else f"NOT met ({_fmt(med - TARGET_NS)} ns over)"
        )
    ]
    valid = [r for r in peers if r.valid]
    if valid:
        fastest = min(valid, key=lambda r: r.median)
        ratio = fastest.median / med
        state = "met" if ratio >= TARGET_RATIO else "NOT met"
        lines.append(
            f"fastest peer: {fastest.adapter.name}, median {_fmt(fastest.median)} ns — "
            f"phased is {ratio:.1f}× faster; target ≥ {TARGET_RATIO:.0f}×: {state}"
        )
    else:
        lines.append("fastest peer: none measured (no peer installed and valid)")
    return lines


def machine() -> list[str]:
    """Where the numbers come from."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    versions = []
    for dist in _DISTRIBUTIONS:
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"source: {_revision()}",
        f"machine: {model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"python: {platform.python_implementation()} {platform.python_version()}",
        f"load average at start: {load}",
        "versions: " + ", ".join(versions),
    ]


def _revision() -> str:
    # The tree is shared; say whether uncommitted work was measured too.
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    try:
        sha, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "src")
    except OSError:
        return "unknown (no git)"
    if not sha:
        return "unknown (not a git checkout)"
    return f"git {sha}" + (" + uncommitted changes under src/" if dirty else "")


def profile_phased(adapter: Adapter, people: Sequence[Person]) -> None:
    """Where phased's time goes, per function (cProfile inflates small calls)."""
    items = adapter.prepare(people)
    profiler = cProfile.Profile()
    profiler.runcall(adapter.run, items)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--only", nargs="*", default=[], help="peer names to include")
    parser.add_argument("--results", type=Path, help="write the Markdown results page here")
    parser.add_argument("--profile", action="store_true", help="profile phased is_enabled")
    args = parser.parse_args(argv)

    people = population(args.users)
    head = machine()
    print("\n".join(head))
    threads_before = set(threading.enumerate())
    with tempfile.TemporaryDirectory(prefix="phased-bench-") as tmp:
        adapters, problems = build_rows(Path(tmp), args.only)
        rows: list[Row] = []
        try:
            for adapter in adapters:
                share = measure_share(adapter, people)  # also the warm-up pass
                expected = round(
                    share.member_on * share.members / 100 + share.staff_on * share.staff / 100
                )
                rows.append(Row(adapter, share, expected_on=expected))
                if not rows[-1].valid:
                    problems.append(
                        f"{adapter.name}: members on {share.member_on:.1f} % "
                        f"(want {25} ± {SHARE_TOLERANCE}), staff on {share.staff_on:.0f} %"
                    )
            print(
                f"users: {len(people):,} ({sum(p.role == 'member' for p in people):,} members), "
                f"repeats: {args.repeats}, batch: {args.batch}"
            )
            for k in range(args.repeats):
                for row in rows[k % len(rows) :] + rows[: k % len(rows)]:
                    time_pass(row, people, args.batch)
                print(f"  repeat {k + 1}/{args.repeats} done", file=sys.stderr)
            if args.profile:
                profile_phased(rows[0].adapter, people)
            notes = [f"{r.adapter.name}: {n}" for r in rows if (n := r.adapter.notes())]
        finally:
            for adapter in adapters:
                try:
                    adapter.close()
                except Exception as exc:
                    problems.append(f"{adapter.name}: close failed: {exc}")
    left = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]

    base = rows[0].median
    own = [r for r in rows if r.adapter.name.startswith(("phased", "floor"))]
    peers = sorted((r for r in rows if r not in own), key=lambda r: r.median)
    body = [
        table([*own, *peers], base),
        "",
        *verdict(rows[0], peers),
        "",
        *(f"- {r.adapter.name}: `{r.adapter.call}`" for r in [*own, *peers]),
        *(f"- note — {n}" for n in notes),
        f"- threads left running after close: {', '.join(left) if left else 'none'}",
        *(f"- problem — {p}" for p in problems),
    ]
    print("\n" + "\n".join(body))
    if args.results:
        page = [
            "# Evaluation benchmark: results",
            "",
            "Produced by `python benchmarks/evaluate.py --results benchmarks/results/evaluate.md`;"
            " method and peer set-up in `benchmarks/README.md`.",
            "",
            *(f"- {line}" for line in head),
            f"- users: {len(people):,}, repeats: {args.repeats}, batch: {args.batch}",
            "",
            *body,
            "",
        ]
        args.results.write_text("\n".join(page), encoding="utf-8")
    return 1 if problems or any(not r.valid for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
