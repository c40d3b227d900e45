"""Golden runs: record writes beside the scenarios, verify diffs, test names scenario/turn/key."""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from phased.errors import NotFoundError, SourceError, ValidationError
from phased.migrate.golden import Mode, recording_path, run
from phased.migrate.junit import junit_xml
from phased.migrate.targets import CallableTarget, CommandTarget, import_target

EXAMPLES = Path(__file__).parents[2] / "examples" / "goldens"

SCENARIO = """\
name: two-turns
seed: 11
scrub: [timestamps]
turns:
  - input: hello
    expect: {mustInclude: hello, countAtMost: 1}
  - input: again
    expect: {mustInclude: again, countAtLeast: 2}
"""


def echo(text: str, *, seed: Any, turn: int, state: dict[str, Any]) -> dict[str, Any]:
    """Counts turns in ``state``; stamps a time that must be scrubbed."""
    state["count"] = state.get("count", 0) + 1
    return {"text": f"{text} (seed {seed})", "count": state["count"], "at": "2026-01-01T00:00:00Z"}


@pytest.fixture
def goldens(tmp_path: Path) -> Path:
    """A directory with one YAML scenario."""
    (tmp_path / "two-turns.yaml").write_text(SCENARIO, "utf-8")
    return tmp_path


class TestModes:
    """record → verify → test on a callable target, state kept across turns."""

    def test_record_then_verify(self, goldens: Path) -> None:
        target = CallableTarget(echo, "echo")
        done = run(Mode.RECORD, goldens, target)
        assert done.passed
        written = json.loads((goldens / "two-turns.golden.json").read_text("utf-8"))
        assert [t["output"]["count"] for t in written["turns"]] == [1, 2]
        assert written["turns"][0]["output"]["at"] == "<timestamp>"
        assert run(Mode.VERIFY, goldens, target).passed

    def test_verify_shows_a_json_diff(self, goldens: Path) -> None:
        run(Mode.RECORD, goldens, CallableTarget(echo, "echo"))

        def changed(text: str, **kw: Any) -> dict[str, Any]:
            out = echo(text, seed=kw["seed"], turn=kw["turn"], state=kw["state"])
            out["count"] += 10
            return out

        done = run(Mode.VERIFY, goldens, CallableTarget(changed, "changed"))
        assert not done.passed
        lines = done.messages()
        assert (
            f"{goldens / 'two-turns.yaml'}:5: two-turns turns[0]: differs from the recording"
            in lines
        )
        assert "    ~ output.count: 1 → 11" in lines

    def test_test_mode_names_scenario_turn_and_key(self, goldens: Path) -> None:
        def once(text: str, **kw: Any) -> dict[str, Any]:
            return {"text": text, "count": 1}

        done = run(Mode.TEST, goldens, CallableTarget(once, "once"))
        assert not done.passed
        assert done.messages() == [
            f"{goldens / 'two-turns.yaml'}:7: two-turns turns[1] countAtLeast: count 1 < 2"
        ]

    def test_missing_and_unused_recordings(self, goldens: Path) -> None:
        target = CallableTarget(echo, "echo")
        done = run(Mode.VERIFY, goldens, target)
        assert "missing recording" in done.messages()[0]
        run(Mode.RECORD, goldens, target)
        stale = goldens / "gone.golden.json"
        stale.write_text('{"turns": []}', "utf-8")
        done = run(Mode.VERIFY, goldens, target)
        assert done.unused == [str(stale)]
        assert not done.passed
        assert run(Mode.VERIFY, goldens, target, warn_unused=True).passed

    def test_a_failing_turn_records_nothing(self, goldens: Path) -> None:
        def boom(text: str, **kw: Any) -> str:
            if kw["turn"] == 1:
                raise RuntimeError("model down")
            return text

        done = run(Mode.RECORD, goldens, CallableTarget(boom, "boom"))
        assert not done.passed
        assert "boom raised RuntimeError: model down" in done.messages()[0]
        assert not recording_path(done.results[0].scenario).exists()

    def test_non_json_output_is_a_turn_error(self, goldens: Path) -> None:
        done = run(Mode.TEST, goldens, CallableTarget(lambda text, **kw: {1, 2}, "sets"))
        assert "returned a set, which is not text or JSON" in done.messages()[0]


class TestBothArms:
    """Each scenario runs with the flag on and off; the differences are the parity report."""

    def test_parity_report_on_the_seed_example(self) -> None:
        # tests/examples shadows the name `examples` here; load the file itself.
        spec = importlib.util.spec_from_file_location("awf_turn", EXAMPLES / "awf_turn.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        target = CallableTarget(module.run_turn, "awf_turn:run_turn")
        done = run(Mode.TEST, EXAMPLES, target, both_arms=True)
        assert done.passed  # the on arm meets the seed's expectations
        assert [r.arm for r in done.results] == ["on", "off"]
        assert done.parity == [
            {
                "scenario": "first-meet-kiera",
                "turn": 0,
                "diff": [
                    '- output.choices[5]: "Wait in silence"',
                    "~ output.sceneChange: false → true",
                ],
            }
        ]

    def test_arm_env_is_set_for_a_callable(self, goldens: Path) -> None:
        import os

        def reads_env(text: str, **kw: Any) -> dict[str, Any]:
            return {"text": text, "count": 1 + kw["turn"], "on": os.environ.get("MY_FLAG_ON")}

        done = run(
            Mode.TEST,
            goldens,
            CallableTarget(reads_env, "env"),
            both_arms=True,
            arm_env="MY_FLAG_ON",
        )
        assert done.parity[0]["diff"] == ['~ output.on: "false" → "true"']
        assert "MY_FLAG_ON" not in os.environ


class TestCommandTarget:
    """A command gets the input on stdin and the turn in its environment; JSON stdout is parsed."""

    def test_runs_and_parses(self, goldens: Path) -> None:
        script = goldens / "t.py"
        script.write_text(
            "import json, os, sys\n"
            "print(json.dumps({'text': sys.stdin.read(), "
            "'count': int(os.environ['PHASED_GOLDEN_TURN']) + 1}))\n",
            "utf-8",
        )
        target = CommandTarget(f"{sys.executable} {script}")
        assert run(Mode.TEST, goldens, target).passed

    def test_time_out_and_exit_code(self, goldens: Path) -> None:
        slow = CommandTarget(f"{sys.executable} -c 'import time; time.sleep(5)'", timeout=0.3)
        done = run(Mode.TEST, goldens, slow, names=["two-turns"])
        assert "did not answer within 0.3 s" in done.messages()[0]
        bad = CommandTarget(f"{sys.executable} -c 'import sys; sys.exit(\"nope\")'")
        assert "exited 1: nope" in run(Mode.TEST, goldens, bad).messages()[0]


class TestBadInput:
    """A broken scenario or target is one clear error before anything runs or is recorded."""

    def test_unimportable_target(self) -> None:
        with pytest.raises(ValidationError, match=r"--target: cannot import 'no_such_mod'"):
            import_target("no_such_mod:run")
        with pytest.raises(ValidationError, match="is not module:function"):
            import_target("justname")
        with pytest.raises(ValidationError, match="has no attribute 'nope'"):
            import_target("json:nope")

    def test_broken_scenario_stops_the_run(self, goldens: Path) -> None:
        (goldens / "bad.json").write_text('{"name": "bad",\n "turns": [{"expect": {}}]}', "utf-8")
        with pytest.raises(SourceError, match=r"bad.json:2: turns\[0\].input: is required"):
            run(Mode.RECORD, goldens, CallableTarget(echo, "echo"))
        assert not (goldens / "two-turns.golden.json").exists()

    def test_unknown_scenario_and_empty_dir(self, goldens: Path, tmp_path: Path) -> None:
        with pytest.raises(NotFoundError, match="no scenario 'x'; known: two-turns"):
            run(Mode.TEST, goldens, CallableTarget(echo, "echo"), names=["x"])
        empty = tmp_path / "empty"
        empty.mkdir()
        with pytest.raises(NotFoundError, match="holds no scenario files"):
            run(Mode.TEST, empty, CallableTarget(echo, "echo"))

    def test_duplicate_names(self, goldens: Path) -> None:
        (goldens / "copy.yaml").write_text(SCENARIO, "utf-8")
        with pytest.raises(SourceError, match="also defined in"):
            run(Mode.TEST, goldens, CallableTarget(echo, "echo"))


class TestJunit:
    """JUnit XML carries one test case per scenario and arm, failures with their lines."""

    def test_failures_and_unused(self, goldens: Path) -> None:
        (goldens / "old.golden.json").write_text("{}", "utf-8")
        done = run(Mode.VERIFY, goldens, CallableTarget(echo, "echo"))
        suite = ET.fromstring(junit_xml(done))
        assert (suite.get("tests"), suite.get("failures")) == ("2", "2")
        names = [c.get("name") for c in suite.iter("testcase")]
        assert names == ["two-turns", str(goldens / "old.golden.json")]
        failure = suite.find("testcase/failure")
        assert failure is not None
        assert "missing recording" in (failure.text or "")
