"""Old and new side by side, pure parts: stage modes, equality with ignore rules, the mismatch gate.

Stage modes follow LaunchDarkly's migration stages (GitHub's Scientist runs
the experiment): which path serves the caller and which one only runs to be
compared.

The mismatch gate gives seed 004's "100 % consistency" a statistical
meaning: ``mismatch_rate at_most 0.001 with confidence 0.95`` passes once the
one-sided Clopper–Pearson upper bound of the mismatch rate is at most 0.1 %;
with no mismatch at all that takes 2,995 clean comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from phased.core.golden.jsondiff import diff_values


class CompareMode(StrEnum):
    """Which path serves and which is compared at one stage."""

    OLD = "old"  # only the old path runs
    SHADOW = "shadow"  # old serves; new runs for the flag's audience and is compared
    LIVE = "live"  # new serves for the flag's audience; old runs on a sample and is compared
    NEW = "new"  # only the new path runs

    @property
    def is_terminal(self) -> bool:
        """The old path is gone: nothing left to compare."""
        return self is CompareMode.NEW


class DeprecationPhase(StrEnum):
    """What an old command does (seed 004's warn → redirect → remove), set per plan stage."""

    ACTIVE = "active"  # the old command runs as before
    WARN = "warn"  # it runs, with a deprecation warning naming the new command
    REDIRECT = "redirect"  # it hands over to the new command
    REMOVED = "removed"  # it refuses, naming the new command

    @property
    def is_terminal(self) -> bool:
        """The old command is gone."""
        return self is DeprecationPhase.REMOVED


def deprecation_at(phases: Iterable[DeprecationPhase | None], index: int) -> DeprecationPhase:
    """The phase in force at stage ``index``: the latest one set at or before it."""
    found = DeprecationPhase.ACTIVE
    for i, phase in enumerate(phases):
        if i > index:
            break
        if phase is not None:
            found = phase
    return found


def plan_of(mode: CompareMode, enabled: bool) -> tuple[str, str | None]:
    """``(serving path, compared path or None)`` for one call.

    ``enabled`` is the flag's evaluation for the caller's context: it selects
    the share of traffic where the new path is involved at all.
    """
    if mode is CompareMode.OLD:
        return "old", None
    if mode is CompareMode.NEW:
        return "new", None
    if not enabled:
        return "old", None
    if mode is CompareMode.SHADOW:
        return "old", "new"
    return "new", "old"


def _drop(value: Any, parts: list[str]) -> Any:
    if not parts:
        return None
    head, rest = parts[0], parts[1:]
    if isinstance(value, Mapping):
        if head == "*":
            return {k: _drop(v, rest) for k, v in value.items()} if rest else {}
        if head not in value:
            return value
        if not rest:
            return {k: v for k, v in value.items() if k != head}
        return {k: (_drop(v, rest) if k == head else v) for k, v in value.items()}
    if isinstance(value, list):
        if head == "*":
            return [_drop(v, rest) for v in value] if rest else []
        if head.isdigit() and int(head) < len(value):
            i = int(head)
            return [(_drop(v, rest) if j == i else v) for j, v in enumerate(value)]
    return value


def without(value: Any, ignore: Iterable[str]) -> Any:
    """``value`` with every ignored dotted path removed (``*`` matches any key or index)."""
    for path in ignore:
        value = _drop(value, path.split("."))
    return value


Comparator = Callable[[Any, Any], bool]


def make_comparator(ignore: Iterable[str] = (), compare: Comparator | None = None) -> Comparator:
    """Equality after the ignore rules; ``compare`` replaces the default ``==``."""
    rules = tuple(ignore)
    base: Comparator = compare if compare is not None else (lambda a, b: bool(a == b))
    if not rules:
        return base
    return lambda a, b: base(without(a, rules), without(b, rules))


def mismatch_diff(old: Any, new: Any, ignore: Iterable[str] = ()) -> list[str]:
    """The readable difference of a mismatch (after the ignore rules)."""
    rules = tuple(ignore)
    return diff_values(without(old, rules), without(new, rules), "")


# -- the statistical mismatch gate -------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), as I_{1-p}(n - k, k + 1)."""
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    return _betainc(n - k, k + 1, 1.0 - p)


def upper_bound(mismatches: int, comparisons: int, confidence: float) -> float:
    """One-sided Clopper–Pearson upper bound of the mismatch rate.

    The rate is at most this with probability ``confidence``; 1.0 before any
    comparison.
    """
    if comparisons <= 0:
        return 1.0
    k = min(mismatches, comparisons)
    if k >= comparisons:
        return 1.0
    alpha = 1.0 - confidence
    if k == 0:
        return float(1.0 - alpha ** (1.0 / comparisons))
    lo, hi = k / comparisons, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _binom_cdf(k, comparisons, mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def comparisons_needed(limit: float, confidence: float, mismatches: int = 0) -> int:
    """The fewest comparisons with ``mismatches`` mismatches whose upper bound is ≤ ``limit``.

    ``comparisons_needed(0.001, 0.95) == 2995``.
    """
    if not 0 < limit < 1:
        raise ValueError(f"limit: must be between 0 and 1 (got {limit})")
    alpha = 1.0 - confidence
    if mismatches == 0:
        n = math.ceil(math.log(alpha) / math.log1p(-limit))
        while n > 1 and upper_bound(0, n - 1, confidence) <= limit:
            n -= 1
        while upper_bound(0, n, confidence) > limit:
            n += 1
        return n
    lo = max(mismatches + 1, int(mismatches / limit))
    hi = lo
    while upper_bound(mismatches, hi, confidence) > limit:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if upper_bound(mismatches, mid, confidence) <= limit:
            hi = mid
        else:
            lo = mid + 1
    return lo
