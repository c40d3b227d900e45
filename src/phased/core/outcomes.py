"""Outcome windows: what happened when the application used a flag, per arm.

One ``Aggregate`` holds everything recorded for one ``OutcomeKey`` (flag,
environment, arm, stage, 10-second slot): counts, sums, a latency sketch,
custom metric sums and an approximate count of distinct users. Aggregates
merge exactly (except distinct users, which merge as HyperLogLog does:
losslessly, but the count itself is an estimate), so windows from many
processes and many slots combine into the totals the judge reads.

``metric_value`` is the metric catalogue: the one place that says what
``error_rate`` or ``cost_usd_per_day`` means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import mmh3

from phased.core.sketch import Sketch
from phased.core.units import Units
from phased.errors import ValidationError

SLOT_SECONDS = 10
SECONDS_PER_DAY = 86_400.0


class Arm(StrEnum):
    """Which side of the flag a request was on."""

    CANDIDATE = "candidate"  # got the flag: the new behaviour under test
    CONTROL = "control"  # did not: the baseline it is compared with


def slot_of(timestamp: float) -> int:
    """The 10-second slot a Unix timestamp falls in."""
    return int(timestamp // SLOT_SECONDS)


@dataclass(frozen=True, slots=True, order=True)
class OutcomeKey:
    """Where an outcome is aggregated: one window per flag, environment, arm, stage, slot."""

    flag: str
    environment: str
    arm: Arm
    stage: str
    slot: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form."""
        return {
            "flag": self.flag,
            "environment": self.environment,
            "arm": self.arm.value,
            "stage": self.stage,
            "slot": self.slot,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeKey:
        """Rebuild a key written by ``to_dict``."""
        try:
            arm = Arm(data["arm"])
        except ValueError as exc:
            raise ValidationError(
                f"arm: must be candidate or control (got {data['arm']!r})", field="arm"
            ) from exc
        return cls(
            flag=str(data["flag"]),
            environment=str(data["environment"]),
            arm=arm,
            stage=str(data["stage"]),
            slot=int(data["slot"]),
        )


_HLL_P = 10
_HLL_M = 1 << _HLL_P
_HLL_ALPHA = 0.7213 / (1 + 1.079 / _HLL_M)
_HLL_RANK_BITS = 64 - _HLL_P


_EXACT_CAP = 512


class UniqueUsers:
    """Distinct users: exact up to 512, then HyperLogLog with 1,024 registers.

    Up to 512 distinct users the 64-bit murmur3 hashes themselves are kept, so
    the count is exact (barring a 64-bit collision). Past that the hashes fold
    into HyperLogLog registers: standard error about 3.3 % (1.04 / sqrt(1024)),
    and within about 2 % in the linear-counting range below ~2,500 users.
    Registers are sparse (only non-zero ones kept). Merging is a lossless union.
    """

    __slots__ = ("hashes", "registers")

    def __init__(self) -> None:
        self.hashes: set[int] | None = set()
        self.registers: dict[int, int] = {}

    def add(self, user: str) -> None:
        """Count one user id (adding the same id twice counts it once)."""
        h = mmh3.hash64(user, signed=False)[0]
        if self.hashes is not None:
            self.hashes.add(h)
            if len(self.hashes) > _EXACT_CAP:
                self._fold()
            return
        self._add_hash(h)

    def _add_hash(self, h: int) -> None:
        index = h >> _HLL_RANK_BITS
        rest = h & ((1 << _HLL_RANK_BITS) - 1)
        rank = _HLL_RANK_BITS - rest.bit_length() + 1
        if rank > self.registers.get(index, 0):
            self.registers[index] = rank

    def _fold(self) -> None:
        for h in self.hashes or ():
            self._add_hash(h)
        self.hashes = None

    def merge(self, other: UniqueUsers) -> None:
        """Union with another counter."""
        if self.hashes is not None and other.hashes is not None:
            self.hashes |= other.hashes
            if len(self.hashes) > _EXACT_CAP:
                self._fold()
            return
        if self.hashes is not None:
            self._fold()
        for h in other.hashes or ():
            self._add_hash(h)
        regs = self.registers
        for index, rank in other.registers.items():
            if rank > regs.get(index, 0):
                regs[index] = rank

    def estimate(self) -> int:
        """The (estimated, past 512) number of distinct users."""
        if self.hashes is not None:
            return len(self.hashes)
        zeros = _HLL_M - len(self.registers)
        raw = _HLL_ALPHA * _HLL_M * _HLL_M / (zeros + sum(2.0**-r for r in self.registers.values()))
        if raw <= 2.5 * _HLL_M and zeros:
            return round(_HLL_M * math.log(_HLL_M / zeros))
        return round(raw)

    def to_dict(self) -> dict[str, Any]:
        """Exact hashes (hex) while few, else register index (as a string) → rank."""
        if self.hashes is not None:
            return {"hashes": sorted(f"{h:016x}" for h in self.hashes)}
        return {"registers": {str(i): r for i, r in sorted(self.registers.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UniqueUsers:
        """Rebuild from ``to_dict``."""
        out = cls()
        try:
            if "registers" in data:
                out.hashes = None
                for key, rank in dict(data["registers"]).items():
                    index, value = int(key), int(rank)
                    if not 0 <= index < _HLL_M or not 0 < value <= _HLL_RANK_BITS + 1:
                        raise ValidationError(
                            f"users.registers: register {key}={rank} is out of range",
                            field="users",
                        )
                    out.registers[index] = value
            else:
                out.hashes = {int(h, 16) for h in data.get("hashes", [])}
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"users: malformed ({exc})", field="users") from exc
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UniqueUsers):
            return NotImplemented
        return (self.hashes, self.registers) == (other.hashes, other.registers)

    __hash__ = None  # type: ignore[assignment]


class Aggregate:
    """Everything recorded for one arm over one window (or over many, once merged)."""

    __slots__ = (
        "cost_usd",
        "errors",
        "fallbacks",
        "latency",
        "metrics",
        "requests",
        "retries",
        "units",
        "users",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.fallbacks = 0
        self.retries = 0
        self.cost_usd = 0.0
        self.latency = Sketch()
        self.metrics: dict[str, list[float]] = {}  # name → [sum, count]
        self.users = UniqueUsers()
        self.units = Units()
        """Per-unit records (the flag's stickiness key): what the judge analyses by unit."""

    @property
    def successes(self) -> int:
        """Requests that did not error."""
        return self.requests - self.errors

    def record(
        self,
        *,
        latency_ms: float | None = None,
        error: bool = False,
        fallback: bool = False,
        retries: int = 0,
        cost_usd: float = 0.0,
        user: str | None = None,
        metrics: Mapping[str, float] | None = None,
        unit: str | None = None,
    ) -> None:
        """Add one request's outcome; ``unit`` is the randomised unit (the stickiness key)."""
        self.requests += 1
        if error:
            self.errors += 1
        if fallback:
            self.fallbacks += 1
        self.retries += retries
        self.cost_usd += cost_usd
        if latency_ms is not None:
            self.latency.add(latency_ms)
        if user is not None:
            self.users.add(user)
        if unit is not None:
            self.units.add(
                unit,
                errors=1 if error else 0,
                fallbacks=1 if fallback else 0,
                retries=retries,
                latency_ms=latency_ms,
            )
        if metrics:
            for name, value in metrics.items():
                self.add_metric(name, value)

    def add_metric(self, name: str, value: float) -> None:
        """Add one value of a custom metric (its catalogue value is the mean)."""
        entry = self.metrics.get(name)
        if entry is None:
            self.metrics[name] = [value, 1.0]
        else:
            entry[0] += value
            entry[1] += 1.0

    def merge(self, other: Aggregate) -> None:
        """Add another aggregate into this one."""
        self.requests += other.requests
        self.errors += other.errors
        self.fallbacks += other.fallbacks
        self.retries += other.retries
        self.cost_usd += other.cost_usd
        self.latency.merge(other.latency)
        for name, (total, count) in other.metrics.items():
            entry = self.metrics.setdefault(name, [0.0, 0.0])
            entry[0] += total
            entry[1] += count
        self.users.merge(other.users)
        if other.units.requests:
            self.units.merge(other.units)

    @classmethod
    def merged(cls, aggregates: Any) -> Aggregate:
        """A new aggregate holding all of ``aggregates`` (an iterable)."""
        out = cls()
        for agg in aggregates:
            out.merge(agg)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form for shipping windows to the store or the server.

        ``units`` is present only when some request carried a unit id, so a
        window without units is written exactly as before it existed.
        """
        out: dict[str, Any] = {
            "requests": self.requests,
            "errors": self.errors,
            "fallbacks": self.fallbacks,
            "retries": self.retries,
            "cost_usd": self.cost_usd,
            "latency": self.latency.to_dict(),
            "metrics": {name: {"sum": s, "count": c} for name, (s, c) in self.metrics.items()},
            "users": self.users.to_dict(),
        }
        if self.units.requests:
            out["units"] = self.units.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Aggregate:
        """Rebuild from ``to_dict``; refuses negative or inconsistent counts."""
        out = cls()
        try:
            out.requests = int(data.get("requests", 0))
            out.errors = int(data.get("errors", 0))
            out.fallbacks = int(data.get("fallbacks", 0))
            out.retries = int(data.get("retries", 0))
            out.cost_usd = float(data.get("cost_usd", 0.0))
            out.metrics = {
                str(name): [float(v["sum"]), float(v["count"])]
                for name, v in dict(data.get("metrics", {})).items()
            }
        except (TypeError, ValueError, KeyError) as exc:
            raise ValidationError(f"aggregate: malformed field ({exc})", field="aggregate") from exc
        if min(out.requests, out.errors, out.fallbacks, out.retries) < 0:
            raise ValidationError("aggregate: counts must not be negative", field="aggregate")
        if out.errors > out.requests:
            raise ValidationError(
                f"aggregate.errors: {out.errors} exceeds requests {out.requests}",
                field="aggregate.errors",
            )
        out.latency = Sketch.from_dict(data.get("latency", {}))
        out.users = UniqueUsers.from_dict(data.get("users", {}))
        if "units" in data:
            out.units = Units.from_dict(data["units"])
            if out.units.requests > out.requests or out.units.errors > out.errors:
                raise ValidationError(
                    f"aggregate.units: {out.units.requests} requests and {out.units.errors} "
                    f"errors by unit exceed the window's {out.requests} and {out.errors}",
                    field="aggregate.units",
                )
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Aggregate):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Aggregate(requests={self.requests}, errors={self.errors})"


# The metric catalogue -------------------------------------------------------------------

BUILTIN_METRICS: tuple[str, ...] = (
    "requests",
    "successes",
    "errors",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "fallback_rate",
    "retry_rate",
    "cost_usd",
    "cost_usd_per_day",
    "cost_per_request",
    "unique_users",
    "requests_per_hour",
    "successes_per_hour",
    "errors_per_hour",
    "mismatch_rate",
    "comparisons",
)

RATE_METRICS: Mapping[str, str] = {
    "error_rate": "errors",
    "fallback_rate": "fallbacks",
    "retry_rate": "retries",
}
"""Rates that the judge compares as events per request: metric → the counted field."""

_LATENCY = re.compile(r"^latency_p(\d{1,2}(?:\.\d+)?)_ms$")


def latency_quantile(metric: str) -> float | None:
    """0.95 for ``latency_p95_ms``; None for a metric that is not a latency quantile."""
    match = _LATENCY.match(metric)
    if not match:
        return None
    q = float(match.group(1)) / 100.0
    return q if 0.0 < q < 1.0 else None


def rate_events(metric: str, agg: Aggregate) -> int:
    """The event count behind a rate metric (errors for ``error_rate``)."""
    field = RATE_METRICS.get(metric)
    if field is None:
        raise ValidationError(
            f"metric: {metric!r} is not a rate; rates are {', '.join(RATE_METRICS)}",
            field="metric",
        )
    value: int = getattr(agg, field)
    return value


MISMATCH_METRIC = "mismatch"
"""The custom value ``client.compare`` records per comparison: 1 mismatch, 0 match."""


def comparison_counts(agg: Aggregate) -> tuple[int, int]:
    """``(mismatches, comparisons)`` recorded by ``client.compare`` (resolved ones subtracted)."""
    entry = agg.metrics.get(MISMATCH_METRIC)
    if entry is None:
        return 0, 0
    return max(round(entry[0]), 0), max(round(entry[1]), 0)


def mismatch_rate(agg: Aggregate) -> float | None:
    """Mismatches per comparison; None before the first comparison."""
    mismatches, comparisons = comparison_counts(agg)
    return mismatches / comparisons if comparisons else None


def _per_request(value: float, agg: Aggregate) -> float | None:
    return value / agg.requests if agg.requests else None


_SIMPLE: Mapping[str, Callable[[Aggregate], float | None]] = {
    "requests": lambda agg: float(agg.requests),
    "successes": lambda agg: float(agg.successes),
    "errors": lambda agg: float(agg.errors),
    "cost_usd": lambda agg: agg.cost_usd,
    "unique_users": lambda agg: float(agg.users.estimate()),
    "error_rate": lambda agg: _per_request(agg.errors, agg),
    "fallback_rate": lambda agg: _per_request(agg.fallbacks, agg),
    "retry_rate": lambda agg: _per_request(agg.retries, agg),
    "cost_per_request": lambda agg: _per_request(agg.cost_usd, agg),
    "mismatch_rate": mismatch_rate,
    "comparisons": lambda agg: float(comparison_counts(agg)[1]),
}
"""Metrics read straight off one aggregate: name → how to compute it (only when asked)."""

_PER_HOUR: Mapping[str, str] = {
    "requests_per_hour": "requests",
    "successes_per_hour": "successes",
    "errors_per_hour": "errors",
}
"""Counts as a rate over the time the aggregate covers (seed 000: invocations > 1,000/hour)."""


def metric_value(
    metric: str, agg: Aggregate, *, elapsed_seconds: float | None = None
) -> float | None:
    """The value of ``metric`` over ``agg``; None when it is undefined (no requests yet).

    Args:
        metric: a name from ``BUILTIN_METRICS``, ``latency_pNN_ms``, or a custom
            metric recorded with ``t.metric(name, value)`` (its mean).
        agg: the aggregate to read.
        elapsed_seconds: the time ``agg`` covers; needed for ``cost_usd_per_day``.
    """
    # Each entry computes its own value when asked: the distinct-user estimate
    # walks the HyperLogLog registers, which a gate on error_rate never needs.
    simple = _SIMPLE.get(metric)
    if simple is not None:
        return simple(agg)
    per_hour = _PER_HOUR.get(metric)
    if per_hour is not None:
        if elapsed_seconds is None or elapsed_seconds <= 0:
            return None
        return float(getattr(agg, per_hour)) * 3600.0 / elapsed_seconds
    if metric == "cost_usd_per_day":
        if elapsed_seconds is None or elapsed_seconds <= 0:
            return None
        return agg.cost_usd * SECONDS_PER_DAY / elapsed_seconds
    q = latency_quantile(metric)
    if q is not None:
        return agg.latency.quantile(q)
    entry = agg.metrics.get(metric)
    if entry is None or entry[1] == 0:
        return None
    return entry[0] / entry[1]
