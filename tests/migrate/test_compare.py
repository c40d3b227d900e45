"""``client.compare``: one path serves, the other is compared; its failures never reach the caller."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from phased import Client
from phased.core.flagfile import parse_flagset
from phased.core.outcomes import Arm, metric_value
from phased.sdk.compare import Comparisons, MemoryMismatchSink
from phased.testing import MemorySink

FLAGS = """\
version: 1
environments: [dev]
flags:
  unified_pipeline:
    environments:
      dev: {default: true}
  dark:
    environments:
      dev: {default: false}
"""


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def client(sink: MemorySink) -> Client:
    c = Client(parse_flagset(FLAGS), environment="dev", env={}, sink=sink, flush_interval=3600)
    c.comparisons.sink = MemoryMismatchSink()
    yield c
    c.close()


def samples(client: Client) -> list[dict[str, Any]]:
    kept = client.comparisons.sink
    assert isinstance(kept, MemoryMismatchSink)
    return kept.samples


def flushed(client: Client, sink: MemorySink, arm: Arm) -> Any:
    assert client.comparisons.drain()
    client.tracker.flush(everything=True)
    return sink.total("unified_pipeline", arm)


class TestModes:
    """The mode and the flag decide who serves; the caller always gets the serving result."""

    def test_shadow_serves_old_and_compares_new(self, client: Client, sink: MemorySink) -> None:
        out = client.compare(
            "unified_pipeline",
            old=lambda: ["bug"],
            new=lambda: ["bug", "dup"],
            mode="shadow",
            user="issue-1",
        )
        assert out == ["bug"]
        cand = flushed(client, sink, Arm.CANDIDATE)
        assert (cand.requests, metric_value("mismatch_rate", cand)) == (1, 1.0)
        assert flushed(client, sink, Arm.CONTROL).requests == 1
        (sample,) = samples(client)
        assert sample["diff"] == ['+ [1]: "dup"']
        assert (sample["old"], sample["new"], sample["mode"]) == (["bug"], ["bug", "dup"], "shadow")

    def test_live_serves_new(self, client: Client, sink: MemorySink) -> None:
        assert client.compare("unified_pipeline", old=lambda: 1, new=lambda: 2, mode="live") == 2

    def test_flag_off_runs_old_only(self, client: Client, sink: MemorySink) -> None:
        ran: list[str] = []
        out = client.compare(
            "dark",
            old=lambda: ran.append("old") or "o",
            new=lambda: ran.append("new") or "n",
            mode="shadow",
        )
        assert (out, ran) == ("o", ["old"])

    def test_stage_mode_from_the_client(self, client: Client) -> None:
        client.compare_modes["unified_pipeline"] = "new"
        assert client.compare("unified_pipeline", old=lambda: 1, new=lambda: 2) == 2
        client.compare_modes["unified_pipeline"] = "old"
        assert client.compare("unified_pipeline", old=lambda: 1, new=lambda: 2) == 1

    def test_ignore_rules_and_match(self, client: Client, sink: MemorySink) -> None:
        for i in range(5):
            client.compare(
                "unified_pipeline",
                old=lambda i=i: {"at": i, "l": "x"},
                new=lambda: {"at": -1, "l": "x"},
                mode="shadow",
                ignore=["at"],
            )
        cand = flushed(client, sink, Arm.CANDIDATE)
        assert (metric_value("comparisons", cand), metric_value("mismatch_rate", cand)) == (5, 0.0)
        assert samples(client) == []


class TestFaults:
    """The compared path's exceptions and hangs stay away from the caller; both are recorded."""

    def test_candidate_exception_is_swallowed_and_recorded(
        self, client: Client, sink: MemorySink
    ) -> None:
        def broken() -> str:
            raise RuntimeError("new path bug")

        assert (
            client.compare("unified_pipeline", old=lambda: "ok", new=broken, mode="shadow") == "ok"
        )
        cand = flushed(client, sink, Arm.CANDIDATE)
        assert (cand.errors, metric_value("mismatch_rate", cand)) == (1, 1.0)
        assert samples(client)[0]["new"] == {"error": "RuntimeError: new path bug"}

    def test_serving_exception_propagates(self, client: Client, sink: MemorySink) -> None:
        def broken() -> str:
            raise ValueError("old path bug")

        with pytest.raises(ValueError, match="old path bug"):
            client.compare("unified_pipeline", old=broken, new=lambda: "x", mode="shadow")
        assert flushed(client, sink, Arm.CONTROL).errors == 1

    def test_hanging_candidate_is_cut_off(self, client: Client, sink: MemorySink) -> None:
        release = threading.Event()

        def hangs() -> str:
            release.wait(10)
            return "late"

        started = time.perf_counter()
        out = client.compare(
            "unified_pipeline", old=lambda: "ok", new=hangs, mode="shadow", timeout=0.05
        )
        waited = time.perf_counter() - started
        assert out == "ok"
        assert waited < 1.0  # the compared path hangs for 10 s: the caller never waits for it
        time.sleep(0.08)
        cand = flushed(client, sink, Arm.CANDIDATE)
        release.set()
        assert cand.errors == 1
        assert metric_value("comparisons", cand) == 0  # a time-out is not a comparison

    def test_comparator_that_raises_counts_as_mismatch(
        self, client: Client, sink: MemorySink, caplog: pytest.LogCaptureFixture
    ) -> None:
        def bad(a: Any, b: Any) -> bool:
            raise KeyError("labels")

        assert (
            client.compare(
                "unified_pipeline", old=lambda: 1, new=lambda: 1, mode="shadow", compare=bad
            )
            == 1
        )
        cand = flushed(client, sink, Arm.CANDIDATE)
        assert metric_value("mismatch_rate", cand) == 1.0
        assert "the comparison function raised KeyError" in samples(client)[0]["diff"][0]
        assert "counted as a mismatch" in caplog.text

    def test_full_pool_skips_instead_of_queueing(self, client: Client) -> None:
        engine = Comparisons(client, workers=1, max_in_flight=1)
        gate = threading.Event()
        try:
            for _ in range(4):
                out = engine.run(
                    "unified_pipeline",
                    old=lambda: 1,
                    new=lambda: gate.wait(5),
                    mode="shadow",
                    context={},
                )
                assert out == 1
            assert engine.skipped >= 2
        finally:
            gate.set()

    def test_samples_are_redacted(self, client: Client) -> None:
        client.compare(
            "unified_pipeline",
            old=lambda: {"token": "ghp_abcdefghijklmnop"},
            new=lambda: {"token": "x"},
            mode="shadow",
            api_key="sk-123456789",
        )
        assert client.comparisons.drain()
        (sample,) = samples(client)
        assert "ghp_abcdefghijklmnop" not in str(sample)
        assert "sk-123456789" not in str(sample)


class TestAsync:
    """``compare_async``: the compared path is a task bounded by its time-out."""

    def test_shadow_and_timeout(self, client: Client, sink: MemorySink) -> None:
        async def old() -> str:
            return "o"

        async def slow() -> str:
            await asyncio.sleep(1)
            return "n"

        async def main() -> tuple[str, float]:
            started = time.perf_counter()
            out = await client.compare_async(
                "unified_pipeline", old=old, new=slow, mode="shadow", timeout=0.05
            )
            waited = time.perf_counter() - started
            await asyncio.sleep(0.1)
            return out, waited

        out, waited = asyncio.run(main())
        assert out == "o"
        assert waited < 0.5
        assert flushed(client, sink, Arm.CANDIDATE).errors == 1
