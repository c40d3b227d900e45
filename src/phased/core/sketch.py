"""A mergeable latency sketch with 1 % relative accuracy (DDSketch-style log buckets).

A value ``x > 0`` lands in bucket ``k = ceil(log(x) / log(gamma))`` with
``gamma = (1 + a) / (1 - a)``; every value in bucket ``k`` lies in
``(gamma**(k-1), gamma**k]`` and the bucket is represented by
``2 * gamma**k / (gamma + 1)``, which is within a relative ``a`` of any of them
(Masson, Rim & Lee, "DDSketch", VLDB 2019). Two sketches merge by adding
bucket counts, so per-process windows can be shipped and combined exactly.

``add`` is on the SDK's request path: one ``log``, one multiply and one dict
update. Non-positive values (a clock that did not move) are counted in a
separate zero bucket; NaN is ignored rather than raised into the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from phased.errors import ValidationError

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_INV_LOG_GAMMA = 1.0 / _LOG_GAMMA
_log = math.log
_ceil = math.ceil


def bucket_key(value: float) -> int:
    """The bucket index of a positive value (exposed so batch producers agree with ``add``)."""
    return _ceil(_log(value) * _INV_LOG_GAMMA)


def bucket_value(key: int) -> float:
    """The representative value of a bucket: within 1 % of anything stored in it."""
    return 2.0 * math.exp(key * _LOG_GAMMA) / (_GAMMA + 1.0)


def bucket_upper(key: int) -> float:
    """The largest value a bucket can hold (``gamma ** key``)."""
    return math.exp(key * _LOG_GAMMA)


class Sketch:
    """Counts of values per logarithmic bucket; quantiles within 1 % relative error."""

    __slots__ = ("bins", "count", "zeros")

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}
        self.zeros = 0
        self.count = 0

    def add(self, value: float) -> None:
        """Record one value (a latency in milliseconds, say)."""
        self.count += 1
        if value > 0.0:
            key = _ceil(_log(value) * _INV_LOG_GAMMA)
            bins = self.bins
            bins[key] = bins.get(key, 0) + 1
        elif value == value:  # noqa: PLR0124  # NaN compares unequal to itself; drop it
            self.zeros += 1
        else:
            self.count -= 1

    def add_many(self, values: Iterable[float]) -> None:
        """Record several values."""
        for value in values:
            self.add(value)

    def merge(self, other: Sketch) -> None:
        """Add another sketch's counts into this one (the result is exact, not approximate)."""
        bins = self.bins
        for key, n in other.bins.items():
            bins[key] = bins.get(key, 0) + n
        self.zeros += other.zeros
        self.count += other.count

    def copy(self) -> Sketch:
        """An independent copy."""
        out = Sketch()
        out.bins = dict(self.bins)
        out.zeros = self.zeros
        out.count = self.count
        return out

    @classmethod
    def merged(cls, sketches: Iterable[Sketch]) -> Sketch:
        """A new sketch holding every value of ``sketches``."""
        out = cls()
        for sketch in sketches:
            out.merge(sketch)
        return out

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (lower quantile: the value of rank ``floor(q * (count - 1))``).

        Returns None for an empty sketch. The answer is within 1 % of the exact
        sample quantile for any positive data.
        """
        if not 0.0 <= q <= 1.0:
            raise ValidationError(f"quantile: must be between 0 and 1 (got {q})", field="quantile")
        if self.count == 0:
            return None
        rank = int(q * (self.count - 1))
        if rank < self.zeros:
            return 0.0
        seen = self.zeros
        for key in sorted(self.bins):
            seen += self.bins[key]
            if seen > rank:
                return bucket_value(key)
        return bucket_value(max(self.bins))  # unreachable unless counts were edited by hand

    def count_above(self, threshold: float) -> int:
        """How many values lie in buckets entirely above ``threshold``.

        Buckets are the resolution: a bucket straddling ``threshold`` counts as
        not above, so the answer is exact for thresholds on bucket boundaries.
        """
        if threshold <= 0.0:
            return self.count - self.zeros if threshold == 0.0 else self.count
        limit = bucket_key(threshold)
        return sum(n for key, n in self.bins.items() if key > limit)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (bucket keys as strings, since JSON object keys must be)."""
        return {
            "accuracy": RELATIVE_ACCURACY,
            "count": self.count,
            "zeros": self.zeros,
            "bins": {str(key): n for key, n in self.bins.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sketch:
        """Rebuild a sketch written by ``to_dict``; refuses another accuracy or bad counts."""
        accuracy = data.get("accuracy", RELATIVE_ACCURACY)
        if accuracy != RELATIVE_ACCURACY:
            raise ValidationError(
                f"sketch.accuracy: only {RELATIVE_ACCURACY} is supported (got {accuracy}); "
                "re-record the window with this version",
                field="sketch.accuracy",
            )
        out = cls()
        raw_bins = data.get("bins", {})
        if not isinstance(raw_bins, Mapping):
            raise ValidationError("sketch.bins: must be an object of key → count", field="bins")
        try:
            out.bins = {int(key): int(n) for key, n in raw_bins.items() if int(n) != 0}
            out.zeros = int(data.get("zeros", 0))
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"sketch.bins: keys and counts must be integers ({exc})", field="bins"
            ) from exc
        if out.zeros < 0 or any(n < 0 for n in out.bins.values()):
            raise ValidationError("sketch.bins: counts must not be negative", field="bins")
        out.count = out.zeros + sum(out.bins.values())
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sketch):
            return NotImplemented
        return (self.count, self.zeros, self.bins) == (other.count, other.zeros, other.bins)

    __hash__ = None  # type: ignore[assignment]  # mutable: equality by content, not hashable

    def __repr__(self) -> str:
        return f"Sketch(count={self.count}, buckets={len(self.bins)})"
