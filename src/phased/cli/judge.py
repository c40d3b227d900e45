"""``phased judge PLAN``: backtest a plan on outcomes fed as JSON lines on stdin.

Protocol (one JSON object per line)::

    {"type": "run_start"}                      a fresh rollout at the first stage
    {"type": "minute", "minute": k,
     "candidate": {"requests": n, "errors": e, "latency_ms": [...]},
     "control": {...}}                         answered by one flushed line:
    {"decision": "continue|advance|rollback|pause|complete", "stage": ..., "reason": ...}
    {"type": "run_end"}                        no answer

Any number of runs per process. An arm may also carry ``fallbacks``,
``retries``, ``cost_usd`` and ``units``: the minute's breakdown by randomisation
unit, ``{"<unit id>": {"requests": n, "errors": e, "latency_ms": [...]}}``, whose
sums are the arm's totals; with units the judge analyses by unit. A malformed line is answered with
``{"error": ...}`` so the feeder stays in step. Run it as ``phased judge`` or,
to skip loading the other commands, ``python -m phased.cli.judge``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from phased.errors import PhasedError

_TERMINAL = {"rolled_back": "rollback", "completed": "complete"}


_COUNTS = ("requests", "errors", "fallbacks", "retries")


def _counts(data: Mapping[str, Any], name: str) -> dict[str, int]:
    out = {}
    for field in _COUNTS:
        value = int(data.get(field, 0))
        if value < 0:
            raise ValueError(f"{name}.{field}: must be >= 0 (got {value})")
        out[field] = value
    if out["errors"] > out["requests"]:
        raise ValueError(
            f"{name}.errors: need 0 <= errors <= requests "
            f"(got {out['errors']} of {out['requests']})"
        )
    return out


def _latency(data: Mapping[str, Any], name: str) -> list[float]:
    latency = data.get("latency_ms") or []
    if not isinstance(latency, list):
        raise ValueError(f"{name}.latency_ms: expected a list of milliseconds")
    return [float(v) for v in latency]


def _arm(data: Any, name: str) -> dict[str, Any]:
    if data is None:
        return {"requests": 0}
    if not isinstance(data, Mapping):
        raise ValueError(f"{name}: expected an object with requests, errors, latency_ms")
    counts = _counts(data, name)
    latency = _latency(data, name)
    out: dict[str, Any] = {
        **counts,
        "latency_ms": latency,
        "cost_usd": float(data.get("cost_usd", 0.0)),
    }
    units = data.get("units")
    if units is None:
        return out
    if not isinstance(units, Mapping):
        raise ValueError(f"{name}.units: expected an object of unit id → outcomes")
    rows, sums, peaks = [], dict.fromkeys(_COUNTS, 0), []
    for unit, outcome in units.items():
        where = f"{name}.units.{unit}"
        if not isinstance(outcome, Mapping):
            raise ValueError(f"{where}: expected an object with requests, errors, latency_ms")
        mine = _counts(outcome, where)
        lat = _latency(outcome, where)
        for field in _COUNTS:
            sums[field] += mine[field]
        peaks.extend(lat)
        rows.append(
            (
                str(unit),
                mine["requests"],
                mine["errors"],
                mine["fallbacks"],
                mine["retries"],
                max(lat) if lat else None,
            )
        )
    for field in _COUNTS:
        if field in data and sums[field] != counts[field]:
            raise ValueError(
                f"{name}.units: the units' {field} add up to {sums[field]}, the arm's "
                f"{field} is {counts[field]}; the units must be the arm's breakdown"
            )
        out[field] = sums[field] if field not in data else counts[field]
    if not latency:
        out["latency_ms"] = peaks
    elif peaks and len(peaks) != len(latency):
        raise ValueError(
            f"{name}.units: {len(peaks)} latencies by unit, {len(latency)} in the arm's "
            "latency_ms; give them once (in the units) or make them the same samples"
        )
    out["units"] = rows
    return out


def _check_sticky(replay: Any, cand: dict[str, Any], ctrl: dict[str, Any]) -> None:
    """Refuse a unit in both arms of one stage (this minute or earlier in the stage)."""
    from phased.core.units import unit_hash

    for have, lack, name in ((cand, ctrl, "control"), (ctrl, cand, "candidate")):
        if "units" in have and "units" not in lack and lack.get("requests"):
            raise ValueError(
                f"{name}.units: missing while the other arm has units; give both arms' "
                "units (the analysis is by unit) or neither"
            )
    mine = {row[0] for row in cand.get("units", ())}
    theirs = {row[0] for row in ctrl.get("units", ())}
    both = sorted(mine & theirs)
    arms = replay.arms()
    if not both and arms is not None:
        seen_cand, seen_ctrl = arms[0].units.records, arms[1].units.records
        both = sorted(
            [u for u in mine if unit_hash(u) in seen_ctrl]
            + [u for u in theirs if unit_hash(u) in seen_cand]
        )
    if both:
        raise ValueError(
            f"units: {both[0]!r} is in both arms of stage {_stage(replay)} (candidate and "
            "control); assignment is sticky per unit, so the stickiness key fed to the judge "
            "is not the one the flag hashes"
        )


def serve(plan_path: Path, stdin: IO[str], stdout: IO[str], *, auto_approve: bool = True) -> int:
    """Answer the protocol on ``stdin``/``stdout`` until end of input; returns the exit code."""
    from phased.core.plans import parse_plan
    from phased.simulate.replay import Replay, record_minute

    plan = parse_plan(plan_path.read_text(encoding="utf-8"), str(plan_path))
    replay: Replay | None = None
    write, flush = stdout.write, stdout.flush
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "run_start":
                replay = Replay(plan, auto_approve=auto_approve)
                replay.step(replay.t0)
                continue
            if kind == "run_end":
                replay = None
                continue
            if kind != "minute":
                raise ValueError(f"type: expected run_start, minute or run_end (got {kind!r})")
            if replay is None:
                raise ValueError('minute before run_start: send {"type": "run_start"} first')
            minute = float(message.get("minute", 0))
            try:
                cand = _arm(message.get("candidate"), "candidate")
                ctrl = _arm(message.get("control"), "control")
                _check_sticky(replay, cand, ctrl)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"minute {minute:g}: {exc}") from None
            word = _TERMINAL.get(replay.state.phase.value)
            if word is not None:
                answer = {"decision": word, "stage": _stage(replay), "reason": replay.state.reason}
            else:
                arms = replay.arms()
                if arms is not None:
                    record_minute(arms[0], **cand)
                    record_minute(arms[1], **ctrl)
                decision = replay.step(replay.at(minute + 1))
                answer = {
                    "decision": decision.word,
                    "stage": decision.stage,
                    "reason": decision.reason,
                }
        except (ValueError, TypeError, PhasedError) as exc:
            answer = {"error": str(exc)}
        write(json.dumps(answer, ensure_ascii=False) + "\n")
        flush()
    return 0


def _stage(replay: Any) -> str:
    name: str = replay.plan.stages[replay.state.stage].name
    return name


def judge(
    plan: Annotated[Path, typer.Argument(help="The plan file.", exists=True, dir_okay=False)],
    no_auto_approve: Annotated[
        bool,
        typer.Option("--no-auto-approve", help="Leave approvals and checklists pending."),
    ] = False,
) -> None:
    """Backtest PLAN on per-minute outcomes from stdin (JSON lines; see docs/simulate.md)."""
    try:
        code = serve(plan, sys.stdin, sys.stdout, auto_approve=not no_auto_approve)
    except PhasedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    """Add ``phased judge`` to the root command."""
    root.command("judge")(judge)


if __name__ == "__main__":
    typer.run(judge)
