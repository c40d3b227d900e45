"""Bucketing: sticky, nested, independent, and the same in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from phased.core.bucketing import (
    BUCKETS,
    SOURCE_GLOBALS,
    hash_id,
    hash_source,
    pick_variant,
    rollout_bucket,
    rollout_source,
    threshold,
    variant_bucket,
    variant_source,
)
from phased.core.flags import Flag, FlagSet, FlagState
from phased.sdk.client import Client

SPEC = json.loads((Path(__file__).parents[1] / "spec" / "bucketing.json").read_text("utf-8"))
IDS = [f"user-{i}" for i in range(100_000)]


class TestSpecVectors:
    """The shared vectors pin the hash so server, SDK and future ports agree."""

    def test_every_vector_matches(self) -> None:
        for v in SPEC["vectors"]:
            assert hash_id(v["salt"], v["unit"]) == v["hash"], v
            assert rollout_bucket(v["salt"], v["unit"]) == v["rollout_bucket"], v
            assert variant_bucket(v["salt"], v["unit"]) == v["variant_bucket"], v

    def test_generated_source_is_the_same_arithmetic(self) -> None:
        """The expressions the compiled evaluator inlines compute the same numbers."""
        for v in SPEC["vectors"]:
            names = {**SOURCE_GLOBALS, "salt": v["salt"], "unit": v["unit"]}
            hashed = eval(hash_source("salt", "unit"), names)
            assert hashed == v["hash"], v
            assert eval(rollout_source("h"), {"h": hashed}) == v["rollout_bucket"]
            assert eval(variant_source("h"), {"h": hashed}) == v["variant_bucket"]

    def test_vectors_through_client(self) -> None:
        """``Client`` (the production path) buckets every vector as the spec says."""
        variants = {f"v{i:02d}": 1 for i in range(100)}  # one variant per 100 buckets
        for v in SPEC["vectors"]:
            bucket = v["rollout_bucket"]
            flags = {
                "at": Flag(key="at", salt=v["salt"], environments={"dev": FlagState(rollout=100)}),
                # admitted exactly when the bucket is below the threshold
                "below": Flag(
                    key="below",
                    salt=v["salt"],
                    environments={"dev": FlagState(rollout=(bucket + 1) / 100)},
                ),
                "above": Flag(
                    key="above",
                    salt=v["salt"],
                    environments={"dev": FlagState(rollout=bucket / 100)},
                ),
                "split": Flag(
                    key="split",
                    salt=v["salt"],
                    variants=variants,
                    environments={"dev": FlagState(rollout=100)},
                ),
            }
            with Client(FlagSet(flags=flags), env={}) as client:
                reason = client.evaluate("at", user=v["unit"]).reason
                assert reason == f"rollout:bucket {bucket}/{BUCKETS} < {BUCKETS}", v
                assert client.is_enabled("below", user=v["unit"]), v
                assert not client.is_enabled("above", user=v["unit"]), v
                expected = f"v{v['variant_bucket'] // 100:02d}"
                assert client.variant("split", user=v["unit"]) == expected, v
                assert client.evaluate("split", user=v["unit"]).value == expected, v

    def test_hash_does_not_depend_on_pythonhashseed(self) -> None:
        code = (
            "from phased.core.bucketing import rollout_bucket;"
            "print([rollout_bucket('f', f'u{i}') for i in range(50)])"
        )
        outputs = {
            subprocess.run(
                [sys.executable, "-c", code],
                env={**os.environ, "PYTHONHASHSEED": seed},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for seed in ("0", "1", "12345")
        }
        assert len(outputs) == 1
        assert outputs.pop().strip() == str([rollout_bucket("f", f"u{i}") for i in range(50)])


class TestShare:
    """A p % rollout admits p % of ids, within ±0.6 points over 100,000 ids."""

    @settings(max_examples=25, deadline=None)
    @given(
        percent=st.integers(min_value=0, max_value=10_000).map(lambda b: b / 100),
        salt=st.text(min_size=1, max_size=12),
    )
    def test_share_close_to_percent(self, percent: float, salt: str) -> None:
        limit = threshold(percent)
        share = sum(rollout_bucket(salt, i) < limit for i in IDS) / len(IDS) * 100
        assert abs(share - percent) <= 0.6


class TestNesting:
    """Raising a percentage never removes anyone; lowering removes the latest added first."""

    @given(
        steps=st.lists(st.integers(0, 10_000), min_size=2, max_size=8).map(sorted),
        salt=st.text(min_size=1, max_size=8),
    )
    def test_raising_keeps_everyone(self, steps: list[int], salt: str) -> None:
        buckets = [rollout_bucket(salt, f"u{i}") for i in range(2_000)]
        previous: set[int] = set()
        for limit in steps:
            current = {i for i, b in enumerate(buckets) if b < limit}
            assert previous <= current
            previous = current

    @given(high=st.integers(1, 10_000), salt=st.text(min_size=1, max_size=8))
    def test_lowering_removes_most_recent_first(self, high: int, salt: str) -> None:
        low = high // 2
        buckets = {f"u{i}": rollout_bucket(salt, f"u{i}") for i in range(2_000)}
        removed = [u for u, b in buckets.items() if low <= b < high]
        kept = [u for u, b in buckets.items() if b < low]
        # everyone removed by lowering had a larger bucket (joined later) than anyone kept
        assert all(buckets[r] >= max((buckets[k] for k in kept), default=-1) for r in removed)


class TestIndependence:
    """Two flags' rollouts are independent: membership in one says nothing of the other."""

    @given(a=st.text(min_size=1, max_size=8), b=st.text(min_size=1, max_size=8))
    @settings(max_examples=20, deadline=None)
    def test_joint_share_is_product(self, a: str, b: str) -> None:
        if a == b:
            return
        ids = IDS[:40_000]
        in_a = [rollout_bucket(a, i) < 5_000 for i in ids]
        in_b = [rollout_bucket(b, i) < 5_000 for i in ids]
        both = sum(x and y for x, y in zip(in_a, in_b, strict=True)) / len(ids)
        # 0.25 expected; sd = sqrt(.25*.75/40000) ≈ 0.0022, so 0.012 is > 5 sd
        assert abs(both - 0.25) < 0.012

    def test_variant_bucket_independent_of_rollout_bucket(self) -> None:
        ids = IDS[:40_000]
        low_rollout = [rollout_bucket("f", i) < 5_000 for i in ids]
        low_variant = [variant_bucket("f", i) < 5_000 for i in ids]
        both = sum(x and y for x, y in zip(low_rollout, low_variant, strict=True)) / len(ids)
        assert abs(both - 0.25) < 0.012


class TestPickVariant:
    """Cumulative weights map buckets to variants in order."""

    def test_boundaries(self) -> None:
        cumulative = ((2_500, "a"), (BUCKETS, "b"))
        assert pick_variant(0, cumulative) == "a"
        assert pick_variant(2_499, cumulative) == "a"
        assert pick_variant(2_500, cumulative) == "b"
        assert pick_variant(9_999, cumulative) == "b"
