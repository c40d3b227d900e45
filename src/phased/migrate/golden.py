"""Running golden scenarios: record, verify and test (seed 003's three modes).

``record`` writes each scenario's outputs beside it (``NAME.golden.json`` next
to ``NAME.json``/``.yaml``), and only when every scenario ran: a failing turn
writes nothing. ``verify`` compares a fresh run with the recordings and shows
a JSON-aware diff; ``test`` checks each turn's ``expect``. Like syrupy, a
scenario without a recording (``missing``) and a recording without a scenario
(``unused``) are reported, and fail ``verify`` unless ``warn_unused``.

With ``both_arms`` every scenario runs twice, with the flag forced on and
off; the modes judge the ``on`` arm (the new behaviour) and the differences
between the arms form the parity report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from phased.core.golden import Failure, Scenario, check_turn, diff_values, parse_scenario, scrub
from phased.errors import NotFoundError, SourceError
from phased.migrate.targets import Call, Target, TargetError

RECORDING_SUFFIX = ".golden.json"
SCENARIO_SUFFIXES = (".json", ".yaml", ".yml")


class Mode(StrEnum):
    """What a golden run checks."""

    RECORD = "record"  # write the outputs beside the scenarios
    VERIFY = "verify"  # compare the outputs with the recordings
    TEST = "test"  # check each turn's expectations


@dataclass(slots=True)
class TurnResult:
    """One turn of one scenario in one arm."""

    index: int
    input: Any
    output: Any = None
    error: str | None = None
    failures: list[Failure] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error, no failed expectation, no difference."""
        return self.error is None and not self.failures and not self.diff

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form."""
        return {
            "turn": self.index,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "failures": [f.to_dict() for f in self.failures],
            "diff": self.diff,
        }


@dataclass(slots=True)
class ScenarioResult:
    """One scenario in one arm."""

    scenario: Scenario
    arm: str | None
    turns: list[TurnResult] = field(default_factory=list)
    problem: str | None = None
    """A scenario-level failure: no recording, or the recording's turns differ in number."""

    @property
    def ok(self) -> bool:
        """Every turn passed and nothing is wrong with the scenario as a whole."""
        return self.problem is None and all(t.ok for t in self.turns)

    @property
    def outputs(self) -> list[Any]:
        """The outputs of the turns, in order."""
        return [t.output for t in self.turns]

    def messages(self) -> list[str]:
        """One line per failure: ``file:line: scenario turns[i] key: what``."""
        s = self.scenario
        arm = f" [{self.arm}]" if self.arm else ""
        out = [f"{s.path}: {s.name}{arm}: {self.problem}"] if self.problem else []
        for t in self.turns:
            line = s.turns[t.index].line
            where = f"{s.path}:{line}" if line else s.path
            head = f"{where}: {s.name}{arm} turns[{t.index}]"
            if t.error:
                out.append(f"{head}: {t.error}")
            out += [f"{head} {f.key}: {f.message}" for f in t.failures]
            if t.diff:
                out.append(f"{head}: differs from the recording")
                out += [f"    {d}" for d in t.diff]
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form."""
        return {
            "scenario": self.scenario.name,
            "path": self.scenario.path,
            "arm": self.arm,
            "ok": self.ok,
            "problem": self.problem,
            "turns": [t.to_dict() for t in self.turns],
        }


@dataclass(slots=True)
class GoldenRun:
    """The result of one ``phased golden`` invocation."""

    mode: Mode
    target: str
    results: list[ScenarioResult] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    warn_unused: bool = False
    parity: list[dict[str, Any]] = field(default_factory=list)
    both_arms: bool = False
    written: list[str] = field(default_factory=list)

    @property
    def judged(self) -> list[ScenarioResult]:
        """The results the mode judges (the ``on`` arm under ``--both-arms``)."""
        return [r for r in self.results if r.arm in (None, "on")]

    @property
    def passed(self) -> bool:
        """Whether the run succeeds (exit 0)."""
        return all(r.ok for r in self.judged) and (self.warn_unused or not self.unused)

    def counts(self) -> dict[str, int]:
        """Scenarios passed and failed, turns run."""
        judged = self.judged
        return {
            "scenarios": len(judged),
            "passed": sum(r.ok for r in judged),
            "failed": sum(not r.ok for r in judged),
            "turns": sum(len(r.turns) for r in judged),
            "unused": len(self.unused),
            "parity_differences": len(self.parity),
        }

    def messages(self) -> list[str]:
        """Every failure line, then the unused recordings."""
        out = [m for r in self.judged for m in r.messages()]
        verb = "warning" if self.warn_unused else "error"
        out += [
            f"{path}: {verb}: unused recording (no scenario of that name; delete it or "
            "restore the scenario)"
            for path in self.unused
        ]
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (``--json``, ``--report``)."""
        return {
            "mode": self.mode.value,
            "target": self.target,
            "passed": self.passed,
            "counts": self.counts(),
            "scenarios": [r.to_dict() for r in self.results],
            "unused": self.unused,
            "parity": self.parity if self.both_arms else None,
            "written": self.written,
        }


# -- finding scenarios ---------------------------------------------------------------


def recording_path(scenario: Scenario) -> Path:
    """Where a scenario's outputs are recorded: beside it, ``NAME.golden.json``."""
    path = Path(scenario.path)
    return path.with_name(path.name.rsplit(".", 1)[0] + RECORDING_SUFFIX)


def load_scenarios(directory: str | os.PathLike[str]) -> list[Scenario]:
    """Every scenario under ``directory`` (recursively), sorted by path.

    Raises:
        NotFoundError: the directory does not exist or holds no scenario.
        SourceError: a scenario file is malformed (file, line and field), or two
            files share a name.
    """
    root = Path(directory)
    if not root.is_dir():
        raise NotFoundError(f"{root} is not a directory of scenario files", field="DIR")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix in SCENARIO_SUFFIXES and not p.name.endswith(RECORDING_SUFFIX)
    )
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for path in files:
        scenario = parse_scenario(path.read_text(encoding="utf-8"), str(path))
        if scenario.name in seen:
            raise SourceError(
                f"scenario {scenario.name!r} is also defined in {seen[scenario.name]}; "
                "names must be unique",
                path=str(path),
                field="name",
            )
        seen[scenario.name] = str(path)
        scenarios.append(scenario)
    if not scenarios:
        raise NotFoundError(
            f"{root} holds no scenario files (*.json, *.yaml; see docs/migrations.md)", field="DIR"
        )
    return scenarios


def select(scenarios: Sequence[Scenario], names: Sequence[str]) -> list[Scenario]:
    """Only the scenarios named (all when ``names`` is empty)."""
    if not names:
        return list(scenarios)
    known = {s.name: s for s in scenarios}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NotFoundError(
            f"no scenario {unknown[0]!r}; known: {', '.join(sorted(known))}", field="--scenario"
        )
    return [known[n] for n in names]


def unused_recordings(
    directory: str | os.PathLike[str], scenarios: Sequence[Scenario]
) -> list[str]:
    """Recording files under ``directory`` that belong to no scenario."""
    wanted = {recording_path(s).resolve() for s in scenarios}
    return sorted(
        str(p) for p in Path(directory).rglob("*" + RECORDING_SUFFIX) if p.resolve() not in wanted
    )


# -- running -------------------------------------------------------------------------


@contextmanager
def _arm_env(name: str | None, arm: str | None) -> Iterator[None]:
    # A callable target reads a flag's env_var (e.g. AWF_BUNDLE_ON) like the app does.
    if name is None or arm is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = "true" if arm == "on" else "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run_scenario(
    scenario: Scenario, target: Target, *, arm: str | None = None, arm_env: str | None = None
) -> ScenarioResult:
    """Run every turn in order; a failing turn is recorded and the next ones still run."""
    result = ScenarioResult(scenario, arm)
    state: dict[str, Any] = {}
    with _arm_env(arm_env, arm):
        for index, turn in enumerate(scenario.turns):
            call = Call(turn.input, scenario.seed, index, state, scenario.name, arm)
            tr = TurnResult(index, turn.input)
            try:
                tr.output = scrub(target(call), scenario.scrubbers)
            except TargetError as exc:
                tr.error = str(exc)
            result.turns.append(tr)
    return result


def _recording(scenario: Scenario, result: ScenarioResult) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "turns": [{"input": t.input, "output": t.output} for t in result.turns],
    }


def _verify(result: ScenarioResult) -> None:
    path = recording_path(result.scenario)
    if not path.exists():
        result.problem = f"missing recording {path} (run `phased golden record` first)"
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        turns = recorded["turns"]
    except (ValueError, KeyError, TypeError) as exc:
        result.problem = f"unreadable recording {path} ({exc}); record it again"
        return
    if len(turns) != len(result.turns):
        result.problem = (
            f"the recording has {len(turns)} turns, the scenario {len(result.turns)}; "
            "record it again"
        )
        return
    for tr, rec in zip(result.turns, turns, strict=True):
        if tr.error is not None:
            continue
        if rec.get("input") != tr.input:
            tr.diff = ["~ input: the scenario's input changed since recording; record it again"]
            continue
        tr.diff = diff_values(rec.get("output"), tr.output, "output")


def _parity(on: ScenarioResult, off: ScenarioResult) -> list[dict[str, Any]]:
    out = []
    for a, b in zip(on.turns, off.turns, strict=True):
        if a.error or b.error:
            if a.error != b.error:
                out.append(
                    {
                        "scenario": on.scenario.name,
                        "turn": a.index,
                        "on_error": a.error,
                        "off_error": b.error,
                        "diff": [],
                    }
                )
            continue
        lines = diff_values(b.output, a.output, "output")
        if lines:
            out.append({"scenario": on.scenario.name, "turn": a.index, "diff": lines})
    return out


def run(
    mode: Mode,
    directory: str | os.PathLike[str],
    target: Target,
    *,
    names: Sequence[str] = (),
    both_arms: bool = False,
    arm_env: str | None = None,
    warn_unused: bool = False,
) -> GoldenRun:
    """Run the scenarios of ``directory`` in ``mode``; ``record`` writes only if all ran.

    Raises:
        SourceError, NotFoundError: a scenario file is malformed, or none is found
            (before anything runs).
    """
    scenarios = load_scenarios(directory)
    chosen = select(scenarios, names)
    outcome = GoldenRun(mode, target.label, warn_unused=warn_unused, both_arms=both_arms)
    for scenario in chosen:
        if both_arms:
            on = run_scenario(scenario, target, arm="on", arm_env=arm_env)
            off = run_scenario(scenario, target, arm="off", arm_env=arm_env)
            outcome.results += [on, off]
            outcome.parity += _parity(on, off)
        else:
            outcome.results.append(run_scenario(scenario, target))
    for result in outcome.judged:
        if mode is Mode.TEST:
            for tr in result.turns:
                if tr.error is None:
                    tr.failures = check_turn(tr.output, result.scenario.turns[tr.index].expect)
        elif mode is Mode.VERIFY:
            _verify(result)
    if not names:
        outcome.unused = unused_recordings(directory, scenarios)
    if mode is Mode.RECORD:
        outcome.unused = []  # record reports what it wrote; verify reports leftovers
        if all(r.ok for r in outcome.judged):
            for result in outcome.judged:
                path = recording_path(result.scenario)
                text = json.dumps(_recording(result.scenario, result), indent=2, ensure_ascii=False)
                path.write_text(text + "\n", encoding="utf-8")
                outcome.written.append(str(path))
    return outcome
