"""``client.compare`` overhead: what the caller pays for running the new path alongside.

The old path is a 1 ms function (``time.sleep(0.001)``); the caller's wall time
is measured per call for:

* **old alone**: the old path called directly (the floor);
* **compare, flag off**: ``client.compare`` where the flag is off (old only);
* **shadow, fast new**: old serves, a 1 ms new path runs on the compare pool;
* **shadow, raising new**: the new path raises at once;
* **shadow, hanging new**: the new path sleeps 10 s (cut off at ``timeout=0.05``;
  once the pool is full, comparisons are skipped rather than queued);
* **live, fast old**: new serves, old compared.

The overhead is the row's median (and p99) minus the floor's. Outcomes go to
an in-memory sink; samples to a memory sink. Scientist runs both paths in
the caller's thread, one after the other, so its overhead is the compared
path's full latency; the last column shows that cost for comparison.

Run: ``.venv/bin/python benchmarks/compare.py`` (``--calls 2000``;
``--results benchmarks/results/compare.md`` rewrites the results page).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from phased import Client
from phased.core.flagfile import parse_flagset
from phased.sdk.compare import MemoryMismatchSink
from phased.testing import MemorySink

FLAGS = """\
version: 1
environments: [dev]
flags:
  lit: {environments: {dev: {default: true}}}
  dark: {environments: {dev: {default: false}}}
"""


def old_path() -> list[str]:
    time.sleep(0.001)
    return ["bug"]


def fast_new() -> list[str]:
    time.sleep(0.001)
    return ["bug"]


def raising_new() -> list[str]:
    raise RuntimeError("new path bug")


_release = threading.Event()


def hanging_new() -> list[str]:
    _release.wait(10)
    return ["late"]


def timed(fn: Callable[[], Any], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e6)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--results", default=None)
    args = parser.parse_args(argv)
    client = Client(parse_flagset(FLAGS), environment="dev", env={}, sink=MemorySink())
    client.comparisons.sink = MemoryMismatchSink()
    cases: list[tuple[str, Callable[[], Any], float]] = [
        ("old alone", old_path, 0.0),
        ("compare, flag off", lambda: client.compare("dark", old=old_path, new=fast_new,
                                                     mode="shadow"), 0.0),
        ("shadow, fast new", lambda: client.compare("lit", old=old_path, new=fast_new,
                                                    mode="shadow"), 1000.0),
        ("shadow, raising new", lambda: client.compare("lit", old=old_path, new=raising_new,
                                                       mode="shadow"), 0.0),
        ("shadow, hanging new", lambda: client.compare("lit", old=old_path, new=hanging_new,
                                                       mode="shadow", timeout=0.05), 10_000_000.0),
        ("live, fast old", lambda: client.compare("lit", old=fast_new, new=old_path,
                                                  mode="live"), 1000.0),
    ]  # fmt: skip
    rows = []
    floor_p50 = floor_p99 = 0.0
    for name, fn, sequential in cases:
        timed(fn, 50)  # warm up
        client.comparisons.drain(2)
        values = timed(fn, args.calls)
        p50, p99 = statistics.median(values), p(values, 0.99)
        if name == "old alone":
            floor_p50, floor_p99 = p50, p99
        rows.append((name, p50, p99, p50 - floor_p50, p99 - floor_p99, sequential))
    _release.set()
    client.comparisons.drain(5)
    skipped = client.comparisons.skipped
    client.close()
    lines = [
        "# client.compare overhead",
        "",
        f"{args.calls:,} calls per row; Python {platform.python_version()} on "
        f"{platform.machine()}, {platform.system()}; old path = 1 ms sleep. "
        "Times in µs (caller's wall time).",
        "",
        "| case | p50 | p99 | overhead p50 | overhead p99 | in-thread (Scientist) adds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {a:,.0f} | {b:,.0f} | {c:+,.0f} | {d:+,.0f} | {e:,.0f} |"
        for n, a, b, c, d, e in rows
    ]
    lines += ["", f"Comparisons skipped because the pool was full (hanging case): {skipped:,}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        with open(args.results, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
