"""Per-unit outcomes: what the judge needs to analyse by the unit that was randomised.

A flag assigns *units* (users, sessions: the flag's stickiness key) to an arm,
not requests. One user's requests are not independent (a user failing on half
of them, a bot retrying, a tenant that is always slow), so a valid test must
treat the unit as the independent observation. ``Units`` keeps, for one arm of
one window (or many, merged), one small record per unit:

    [requests, errors, fallbacks, retries, key of the largest latency]

keyed by the unit id's 64-bit murmur3 hash (the id itself is never kept).
The judge needs only which units ever had an error (a fallback, a retry) and
each unit's largest latency (``phased.core.analysis.units``).

**Bounded.** A window keeps at most ``UNIT_CAP`` records. Past that it becomes
a *hash sample* (Wegman's adaptive sampling, Flajolet 1990): at depth ``d`` only
units whose hash is below ``2**(64-d)`` are kept, and ``d`` grows by one each
time the records overflow. Which units are sampled depends on the hash of the
id alone, never on the arm (the flag's assignment hashes ``salt:id`` with
another function), so the sample is a random subset of units of either arm.

**Mergeable.** Merging takes the larger depth, drops the records it excludes,
adds the records of units present in both, and deepens while over the cap.
The result is the sample at the smallest depth ``>=`` every input's depth that
fits, a function of the union alone: merging is associative and commutative,
so any grouping of windows (batches, rollups, the recent tail) gives the same
summary as one read of all of them.

Counts derived from the records (units with an error, a fallback, a retry;
the histogram of units' largest latency by sketch bucket) are kept up to date
on every change so that the judge reads them in O(1) and O(buckets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mmh3

from phased.core.sketch import bucket_key
from phased.errors import ValidationError

UNIT_CAP = 8192
"""Records kept per arm and window (and per arm and stage, once merged) before sampling."""

NO_LATENCY = -(1 << 30)
"""The ``max_key`` of a unit with no positive latency recorded."""

_BITS = 64
_REQ, _ERR, _FB, _RET, _MAX = range(5)


def unit_hash(unit: str) -> int:
    """The 64-bit hash a unit id is kept under (the same one ``UniqueUsers`` counts)."""
    return int(mmh3.hash64(unit, signed=False)[0])


def sampled(h: int, depth: int) -> bool:
    """Whether a unit hash is in the sample at ``depth`` (its top ``depth`` bits are zero)."""
    return depth == 0 or h >> (_BITS - depth) == 0


class Units:
    """Per-unit records of one arm: bounded, mergeable (see the module docstring)."""

    __slots__ = ("depth", "errors", "fallbacks", "maxima", "records", "requests", "retries",
                 "with_errors", "with_fallbacks", "with_retries")  # fmt: skip

    def __init__(self) -> None:
        self.depth = 0
        self.records: dict[int, list[int]] = {}
        self.requests = 0
        """Requests recorded with a unit id, sampled or not (and so for the next three)."""
        self.errors = 0
        self.fallbacks = 0
        self.retries = 0
        self.with_errors = 0
        self.with_fallbacks = 0
        self.with_retries = 0
        self.maxima: dict[int, int] = {}
        """Sketch bucket of a unit's largest latency → how many units have it."""

    def __len__(self) -> int:
        return len(self.records)

    @property
    def units(self) -> int:
        """Units in the sample."""
        return len(self.records)

    # -- recording ---------------------------------------------------------------------

    def add(
        self,
        unit: str | int,
        *,
        requests: int = 1,
        errors: int = 0,
        fallbacks: int = 0,
        retries: int = 0,
        latency_ms: float | None = None,
    ) -> None:
        """Add outcomes of one unit (an id, or its ``unit_hash``)."""
        h = unit if isinstance(unit, int) else unit_hash(unit)
        self.requests += requests
        self.errors += errors
        self.fallbacks += fallbacks
        self.retries += retries
        if self.depth and h >> (_BITS - self.depth):
            return
        key = bucket_key(latency_ms) if latency_ms is not None and latency_ms > 0.0 else NO_LATENCY
        self._combine(h, requests, errors, fallbacks, retries, key)
        if len(self.records) > UNIT_CAP:
            self._deepen(self.depth + 1)

    def _combine(self, h: int, req: int, err: int, fb: int, ret: int, key: int) -> None:  # noqa: PLR0917
        rec = self.records.get(h)
        if rec is None:
            self.records[h] = [req, err, fb, ret, key]
            self.with_errors += err > 0
            self.with_fallbacks += fb > 0
            self.with_retries += ret > 0
            if key != NO_LATENCY:
                self.maxima[key] = self.maxima.get(key, 0) + 1
            return
        rec[_REQ] += req
        if err:
            self.with_errors += rec[_ERR] == 0
            rec[_ERR] += err
        if fb:
            self.with_fallbacks += rec[_FB] == 0
            rec[_FB] += fb
        if ret:
            self.with_retries += rec[_RET] == 0
            rec[_RET] += ret
        old = rec[_MAX]
        if key > old:
            rec[_MAX] = key
            maxima = self.maxima
            if old != NO_LATENCY:
                left = maxima[old] - 1
                if left:
                    maxima[old] = left
                else:
                    del maxima[old]
            maxima[key] = maxima.get(key, 0) + 1

    def _deepen(self, depth: int) -> None:
        """Drop the records a deeper sample excludes; deepen further while over the cap."""
        while True:
            self.depth = depth
            self.records = {h: r for h, r in self.records.items() if sampled(h, depth)}
            if len(self.records) <= UNIT_CAP:
                break
            depth += 1
        self._recount()

    def _recount(self) -> None:
        records = self.records.values()
        self.with_errors = sum(r[_ERR] > 0 for r in records)
        self.with_fallbacks = sum(r[_FB] > 0 for r in records)
        self.with_retries = sum(r[_RET] > 0 for r in records)
        maxima: dict[int, int] = {}
        for r in records:
            if r[_MAX] != NO_LATENCY:
                maxima[r[_MAX]] = maxima.get(r[_MAX], 0) + 1
        self.maxima = maxima

    # -- merging -----------------------------------------------------------------------

    def merge(self, other: Units) -> None:
        """Add another arm-window's units into this one (see the module docstring)."""
        self.requests += other.requests
        self.errors += other.errors
        self.fallbacks += other.fallbacks
        self.retries += other.retries
        if other.depth > self.depth:
            self._deepen(other.depth)
        depth = self.depth
        combine = self._combine
        for h, (req, err, fb, ret, key) in other.records.items():
            if depth == 0 or not h >> (_BITS - depth):
                combine(h, req, err, fb, ret, key)
        if len(self.records) > UNIT_CAP:
            self._deepen(self.depth + 1)

    @classmethod
    def merged(cls, many: Iterable[Units]) -> Units:
        """A new summary holding all of ``many``."""
        out = cls()
        for units in many:
            out.merge(units)
        return out

    def at_depth(self, depth: int) -> Units:
        """This sample thinned to ``depth`` (itself when already that deep)."""
        if depth <= self.depth:
            return self
        out = Units()
        out.requests, out.errors = self.requests, self.errors
        out.fallbacks, out.retries = self.fallbacks, self.retries
        out.depth = depth
        out.records = {h: r for h, r in self.records.items() if sampled(h, depth)}
        out._recount()
        return out

    def count_with(self, field: str) -> int:
        """Units with at least one ``errors``, ``fallbacks`` or ``retries``."""
        return {
            "errors": self.with_errors,
            "fallbacks": self.with_fallbacks,
            "retries": self.with_retries,
        }[field]

    def hashes_with(self, field: str) -> set[int]:
        """The hashes of units with at least one ``field`` (errors, fallbacks, retries)."""
        index = {"errors": _ERR, "fallbacks": _FB, "retries": _RET}[field]
        return {h for h, r in self.records.items() if r[index] > 0}

    def hashes_above(self, key: int) -> set[int]:
        """The hashes of units whose largest latency lies in a bucket above ``key``."""
        return {h for h, r in self.records.items() if r[_MAX] > key}

    def record_of(self, h: int) -> tuple[int, int, int, int, int] | None:
        """(requests, errors, fallbacks, retries, max latency key) of a unit hash, if sampled."""
        rec = self.records.get(h)
        return None if rec is None else (rec[0], rec[1], rec[2], rec[3], rec[4])

    # -- the wire ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: depth, totals, and ``records``: hex hash → [r, e, f, t, max key]."""
        return {
            "depth": self.depth,
            "requests": self.requests,
            "errors": self.errors,
            "fallbacks": self.fallbacks,
            "retries": self.retries,
            "records": {f"{h:016x}": list(r) for h, r in sorted(self.records.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Units:
        """Rebuild from ``to_dict``; refuses negative counts and more records than the cap."""
        out = cls()
        try:
            out.depth = int(data.get("depth", 0))
            out.requests = int(data.get("requests", 0))
            out.errors = int(data.get("errors", 0))
            out.fallbacks = int(data.get("fallbacks", 0))
            out.retries = int(data.get("retries", 0))
            raw = dict(data.get("records", {}))
            records = {int(h, 16): [int(v) for v in r] for h, r in raw.items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(f"units: malformed ({exc})", field="units") from exc
        if (
            not 0 <= out.depth <= _BITS
            or min(out.requests, out.errors, out.fallbacks, out.retries) < 0
        ):
            raise ValidationError(
                f"units: depth must be 0-64 and counts >= 0 (got depth {out.depth}, "
                f"{out.requests} requests, {out.errors} errors)",
                field="units",
            )
        for h, r in records.items():
            if len(r) != 5 or min(r[:4]) < 0 or r[_ERR] > r[_REQ] or not sampled(h, out.depth):
                raise ValidationError(
                    f"units.records.{h:016x}: expected [requests, errors, fallbacks, retries, "
                    f"max_key] with 0 <= errors <= requests, in the depth-{out.depth} sample "
                    f"(got {r})",
                    field="units",
                )
        out.records = records
        out._recount()
        if len(records) > UNIT_CAP:
            out._deepen(out.depth + 1)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Units):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Units(units={len(self.records)}, depth={self.depth}, requests={self.requests})"
