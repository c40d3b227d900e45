"""Sticky, nested, flag-independent bucketing.

One 32-bit MurmurHash3 (seed 0) of ``"<salt>:<id>"`` in UTF-8 gives both
numbers a flag needs:

* the rollout bucket ``h % 10000``: a user is in a p % rollout when the bucket
  is below ``round(p * 100)``. Raising p only adds buckets, so nobody who had
  the flag loses it; lowering p removes the highest buckets, which are the
  ones most recently added.
* the variant bucket ``(h // 10000) % 10000``, compared with the cumulative
  variant weights, so a multivariate split is sticky too and independent of
  the rollout percentage.

The salt is the flag key unless the flag sets its own, so two flags bucket
independently. MurmurHash3 does not depend on ``PYTHONHASHSEED``: every
process, server and SDK port agrees (see ``tests/spec/bucketing.json``).

The compiled evaluator (:mod:`phased.core.evaluate`) generates Python source
per flag; it takes the same arithmetic as text from :func:`hash_source`,
:func:`rollout_source` and :func:`variant_source` (a call would cost a
seventh of an evaluation), and ``tests/core/test_bucketing.py`` checks that the
text and the functions agree on the shared vectors.
"""

from __future__ import annotations

import mmh3

BUCKETS = 10_000

SOURCE_GLOBALS = {"_murmur3": mmh3.hash}
"""The names the ``*_source`` expressions use, for the namespace of generated code."""


def hash_id(salt: str, unit: object) -> int:
    """The unsigned 32-bit hash behind both buckets."""
    return mmh3.hash(f"{salt}:{unit}", 0, False)


def hash_source(salt: str, unit: str) -> str:
    """:func:`hash_id` as an expression over the variables named ``salt`` and ``unit``."""
    return f"_murmur3(f'{{{salt}}}:{{{unit}}}', 0, False)"


def rollout_source(hashed: str) -> str:
    """The rollout bucket (:func:`rollout_bucket`) of the hash in variable ``hashed``."""
    return f"{hashed} % {BUCKETS}"


def variant_source(hashed: str) -> str:
    """The variant bucket (:func:`variant_bucket`) of the hash in variable ``hashed``."""
    return f"({hashed} // {BUCKETS}) % {BUCKETS}"


def rollout_bucket(salt: str, unit: object) -> int:
    """0..9999: in a p % rollout when below ``threshold(p)``."""
    return hash_id(salt, unit) % BUCKETS


def variant_bucket(salt: str, unit: object) -> int:
    """0..9999: position in the cumulative variant weights."""
    return (hash_id(salt, unit) // BUCKETS) % BUCKETS


def threshold(percent: float) -> int:
    """Buckets admitted by a percentage with 0.01 precision (25 -> 2500)."""
    return round(percent * 100)


def pick_variant(bucket: int, cumulative: tuple[tuple[int, str], ...]) -> str:
    """The variant whose cumulative upper bound (in buckets) first exceeds ``bucket``."""
    for upper, name in cumulative:
        if bucket < upper:
            return name
    return cumulative[-1][1]
