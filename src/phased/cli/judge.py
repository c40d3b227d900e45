"""``phased judge PLAN``: backtest a plan on outcomes fed as JSON lines on stdin.

Protocol (one JSON object per line)::

    {"type": "run_start"}                      a fresh rollout at the first stage
    {"type": "minute", "minute": k,
     "candidate": {"requests": n, "errors": e, "latency_ms": [...]},
     "control": {...}}                         answered by one flushed line:
    {"decision": "continue|advance|rollback|pause|complete", "stage": ..., "reason": ...}
    {"type": "run_end"}                        no answer

Any number of runs per process. An arm may also carry ``fallbacks``,
``retries`` and ``cost_usd``. A malformed line is answered with
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


def _arm(data: Any, name: str) -> dict[str, Any]:
    if data is None:
        return {"requests": 0}
    if not isinstance(data, Mapping):
        raise ValueError(f"{name}: expected an object with requests, errors, latency_ms")
    requests, errors = int(data.get("requests", 0)), int(data.get("errors", 0))
    if requests < 0 or not 0 <= errors <= requests:
        raise ValueError(f"{name}: need 0 <= errors <= requests (got {errors} of {requests})")
    latency = data.get("latency_ms") or ()
    if not isinstance(latency, list):
        raise ValueError(f"{name}.latency_ms: expected a list of milliseconds")
    return {
        "requests": requests,
        "errors": errors,
        "latency_ms": latency,
        "fallbacks": int(data.get("fallbacks", 0)),
        "retries": int(data.get("retries", 0)),
        "cost_usd": float(data.get("cost_usd", 0.0)),
    }


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
            cand = _arm(message.get("candidate"), "candidate")
            ctrl = _arm(message.get("control"), "control")
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
