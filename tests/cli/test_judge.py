"""``phased judge``: the JSON-lines protocol, driven through a real subprocess."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PLAN = """\
flag: awf_bundle
environment: prod
stages:
  - name: canary-5
    audience: 5
    min_duration: 30m
    approval: {roles: [pm]}
  - name: canary-25
    audience: 25
    min_duration: 3h
rollback:
  - {metric: error_rate, compare: control}
  - {metric: latency_p95_ms, compare: control}
"""


@pytest.fixture
def judge(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "phased.cli.judge", str(plan)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def send(proc: subprocess.Popen[str], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()


def ask(proc: subprocess.Popen[str], message: dict[str, Any]) -> dict[str, Any]:
    """Send one minute and read its answer before sending anything else."""
    send(proc, message)
    assert proc.stdout is not None
    answer: dict[str, Any] = json.loads(proc.stdout.readline())
    return answer


def minute(k: int, rng: random.Random, cand_error: float = 0.01) -> dict[str, Any]:
    def arm(n: int, rate: float) -> dict[str, Any]:
        return {
            "requests": n,
            "errors": sum(rng.random() < rate for _ in range(n)),
            "latency_ms": [rng.lognormvariate(4.79, 0.73) for _ in range(n)],
        }

    return {
        "type": "minute",
        "minute": k,
        "candidate": arm(10, cand_error),
        "control": arm(190, 0.01),
    }


class TestProtocol:
    """One flushed answer per minute, many runs per process, no answer to run_end."""

    def test_healthy_run_then_regressed_run(self, judge: subprocess.Popen[str]) -> None:
        rng = random.Random(5)
        send(judge, {"type": "run_start"})
        answers = [ask(judge, minute(k, rng)) for k in range(60)]
        assert {a["decision"] for a in answers} <= {"continue", "advance"}
        assert set(answers[0]) == {"decision", "stage", "reason"}
        advance = next(a for a in answers if a["decision"] == "advance")
        assert advance["stage"] == "canary-25"
        assert answers.index(advance) == 29  # minute 29 ends the 30-minute soak
        send(judge, {"type": "run_end"})

        send(judge, {"type": "run_start"})
        answers = [ask(judge, minute(k, rng, cand_error=0.10)) for k in range(60)]
        words = [a["decision"] for a in answers]
        assert "rollback" in words
        first = words.index("rollback")
        assert answers[first]["stage"] == "canary-5"
        assert "error_rate" in answers[first]["reason"]
        assert set(words[first:]) == {"rollback"}
        send(judge, {"type": "run_end"})
        assert judge.stdin is not None
        judge.stdin.close()
        assert judge.wait(timeout=30) == 0
        assert judge.stdout is not None
        assert judge.stdout.read() == ""

    def test_malformed_lines_are_answered_with_an_error(self, judge: subprocess.Popen[str]) -> None:
        assert "run_start" in ask(judge, minute(0, random.Random(1)))["error"]
        send(judge, {"type": "run_start"})
        bad = ask(judge, {"type": "minute", "minute": 0, "candidate": {"requests": 1, "errors": 5}})
        assert "errors <= requests" in bad["error"]
        assert "expected run_start" in ask(judge, {"type": "nonsense"})["error"]
        assert ask(judge, minute(1, random.Random(1)))["decision"] == "continue"


class TestBadPlan:
    """A broken plan exits 1 with file, line and field on stderr."""

    def test_exit_code(self, tmp_path: Path) -> None:
        plan = tmp_path / "plan.yaml"
        plan.write_text(PLAN.replace("error_rate, compare", "error_ratio, compare"), "utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "phased.cli.judge", str(plan)],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert "plan.yaml:12: rollback[0].metric: unknown metric 'error_ratio'" in done.stderr


def unit_minute(k: int, rng: random.Random, troubled: str | None = None) -> dict[str, Any]:
    """A minute by user: 20 users of the candidate arm, 380 of the control, one request each."""

    def arm(prefix: str, count: int) -> dict[str, Any]:
        units = {}
        for _ in range(count):
            uid = f"{prefix}-{rng.randrange(count * 3)}"
            if uid in units:
                continue
            failing = uid == troubled
            units[uid] = {
                "requests": 5 if failing else 1,
                "errors": 4 if failing else int(rng.random() < 0.01),
                "latency_ms": [rng.lognormvariate(4.79, 0.73) for _ in range(5 if failing else 1)],
            }
        return {
            "requests": sum(u["requests"] for u in units.values()),
            "errors": sum(u["errors"] for u in units.values()),
            "units": units,
        }

    return {"type": "minute", "minute": k, "candidate": arm("c", 20), "control": arm("k", 380)}


class TestUnits:
    """Per-unit breakdowns: analysed by unit; inconsistent ones refused with minute and field."""

    def test_a_troubled_candidate_user_is_one_unit_not_a_regression(
        self, judge: subprocess.Popen[str]
    ) -> None:
        rng = random.Random(3)
        send(judge, {"type": "run_start"})
        answers = [ask(judge, unit_minute(k, rng, troubled="c-7")) for k in range(25)]
        assert {a["decision"] for a in answers} == {"continue"}

    def test_unit_totals_must_add_up(self, judge: subprocess.Popen[str]) -> None:
        send(judge, {"type": "run_start"})
        message = unit_minute(4, random.Random(1))
        message["candidate"]["errors"] += 1
        error = ask(judge, message)["error"]
        assert error.startswith("minute 4: candidate.units:")
        assert "errors add up to" in error

    def test_negative_counts_name_the_unit(self, judge: subprocess.Popen[str]) -> None:
        send(judge, {"type": "run_start"})
        message = unit_minute(2, random.Random(1))
        uid = next(iter(message["control"]["units"]))
        message["control"]["units"][uid]["requests"] = -1
        error = ask(judge, message)["error"]
        assert error == f"minute 2: control.units.{uid}.requests: must be >= 0 (got -1)"

    def test_a_unit_in_both_arms_is_refused(self, judge: subprocess.Popen[str]) -> None:
        send(judge, {"type": "run_start"})
        rng = random.Random(2)
        first = unit_minute(0, rng)
        assert ask(judge, first)["decision"] == "continue"
        second = unit_minute(1, rng)
        moved = next(iter(first["candidate"]["units"]))
        second["control"]["units"][moved] = {"requests": 1, "errors": 0, "latency_ms": [100.0]}
        second["control"]["requests"] += 1
        error = ask(judge, second)["error"]
        assert error.startswith(f"minute 1: units: {moved!r} is in both arms of stage canary-5")

    def test_units_in_one_arm_only_are_refused(self, judge: subprocess.Popen[str]) -> None:
        send(judge, {"type": "run_start"})
        message = unit_minute(0, random.Random(1))
        del message["control"]["units"]
        error = ask(judge, message)["error"]
        assert error.startswith("minute 0: control.units: missing while the other arm has units")
