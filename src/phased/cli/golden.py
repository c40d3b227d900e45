"""``phased golden record|verify|test DIR``: seed 003's golden scenarios, run against a target.

The target is a Python callable (``--target module:function``) or a command
(``--cmd "..."``); see ``docs/migrations.md`` for the scenario format, the
call protocol and what each mode checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phased.cli.common import (
    Actor,
    Db,
    Json,
    actor_of,
    open_backend,
    print_json,
    usage_error,
)

if TYPE_CHECKING:
    from phased.migrate.golden import GoldenRun, Mode
    from phased.migrate.targets import Target

app = typer.Typer(
    help="Golden scenarios: record outputs, verify them, test expectations (seed 003).",
    no_args_is_help=True,
)

Dir = Annotated[Path, typer.Argument(help="Directory of scenario files (*.json, *.yaml).")]
ScenarioOpt = Annotated[
    list[str] | None,
    typer.Option("--scenario", help="Only this scenario (repeatable).", show_default=False),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="A Python callable module:function, called target(input, seed=, turn=, state=).",
        show_default=False,
    ),
]
CmdOpt = Annotated[
    str | None,
    typer.Option(
        "--cmd", help="A command: the turn's input on stdin, its output on stdout.",
        show_default=False,
    ),
]  # fmt: skip
BothArms = Annotated[
    bool,
    typer.Option(
        "--both-arms",
        help="Run each scenario with the flag forced on and off; print the parity report.",
    ),
]
ArmEnv = Annotated[
    str | None,
    typer.Option(
        "--arm-env",
        help="With --both-arms: also set this variable to true/false (a flag's env_var).",
        show_default=False,
    ),
]
RequireParity = Annotated[
    bool, typer.Option("--require-parity", help="With --both-arms: fail when the arms differ.")
]
Junit = Annotated[
    Path | None,
    typer.Option("--junit", help="Also write JUnit XML to this file.", show_default=False),
]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Seconds a --cmd turn may take.", min=0.1)
]
Report = Annotated[
    str | None,
    typer.Option(
        "--report",
        help="Post the result to phased as a run of this suite (evidence for a plan's golden:).",
        show_default=False,
    ),
]
ReportFlag = Annotated[
    str | None,
    typer.Option("--flag", help="With --report: the flag whose rollout it is evidence for.",
                 show_default=False),
]  # fmt: skip
Build = Annotated[
    str | None,
    typer.Option("--build", help="With --report: the build or version tested (or PHASED_BUILD).",
                 show_default=False),
]  # fmt: skip
WarnUnused = Annotated[
    bool, typer.Option("--warn-unused", help="Unused recordings warn instead of failing.")
]


def _target(target: str | None, cmd: str | None, timeout: float, arm_env: str | None) -> Target:
    from phased.migrate.targets import CommandTarget, import_target

    if (target is None) == (cmd is None):
        usage_error('give exactly one of --target module:function or --cmd "COMMAND"')
    if target is not None:
        return import_target(target)
    assert cmd is not None
    return CommandTarget(cmd, timeout=timeout, arm_env=arm_env)


def _print(run: GoldenRun, json_out: bool, require_parity: bool) -> None:
    if json_out:
        print_json(run.to_dict())
        return
    for line in run.messages():
        typer.echo(line, err=True)
    if run.both_arms:
        if run.parity:
            typer.echo(f"parity: {len(run.parity)} turn(s) differ between the arms (off → on):")
            for p in run.parity:
                typer.echo(f"  {p['scenario']} turns[{p['turn']}]")
                if not p["diff"]:
                    typer.echo(f"    on: {p.get('on_error')} / off: {p.get('off_error')}")
                for d in p["diff"]:
                    typer.echo(f"    {d}")
        else:
            typer.echo("parity: both arms gave the same outputs")
    c = run.counts()
    verdict = "passed" if run.passed and not (require_parity and run.parity) else "FAILED"
    if run.mode.value == "record":
        if run.written:
            typer.echo(f"recorded {len(run.written)} scenario(s), {c['turns']} turn(s)")
        else:
            typer.echo("nothing recorded: fix the failures above and record again")
    else:
        typer.echo(
            f"golden {run.mode.value}: {verdict}: {c['passed']}/{c['scenarios']} scenario(s), "
            f"{c['turns']} turn(s)"
            + (f", {c['unused']} unused recording(s)" if c["unused"] else "")
        )


def _report(
    result: GoldenRun,
    *,
    suite: str,
    flag: str | None,
    build: str,
    actor: str | None,
    db: str | None,
    quiet: bool,
) -> None:
    with open_backend(db) as backend:
        done = backend.golden_runs.report(
            actor=actor_of(actor),
            suite=suite,
            build=build,
            mode=result.mode.value,
            passed=result.passed,
            counts=result.counts(),
            failures=result.messages(),
            flag=flag,
        )
    if quiet:
        return
    verdict = "passing" if done.passed else "failing"
    where = ""
    if done.ticked:
        verb = "ticks" if done.passed else "blocks"
        where = f"; {verb} stage {done.ticked} of {flag} (item 'golden: {suite}')"
    typer.echo(f"reported {verdict} run {done.evidence} of {suite} (build {done.build}){where}")


def _go(
    mode: Mode,
    directory: Path,
    *,
    scenario: list[str] | None,
    target: str | None,
    cmd: str | None,
    both_arms: bool,
    arm_env: str | None,
    require_parity: bool,
    junit: Path | None,
    timeout: float,
    warn_unused: bool,
    json_out: bool,
    report: str | None = None,
    flag: str | None = None,
    build: str | None = None,
    actor: str | None = None,
    db: str | None = None,
) -> None:
    from phased.migrate.golden import run
    from phased.migrate.junit import junit_xml

    if report is None and (flag is not None or build is not None):
        usage_error("--flag and --build only go with --report SUITE")
    build = build or os.environ.get("PHASED_BUILD")
    if report is not None and not build:
        usage_error("--report needs --build (or PHASED_BUILD): the build or version tested")

    chosen = _target(target, cmd, timeout, arm_env)
    result = run(
        mode,
        directory,
        chosen,
        names=scenario or (),
        both_arms=both_arms,
        arm_env=arm_env,
        warn_unused=warn_unused,
    )
    if junit is not None:
        junit.write_text(junit_xml(result), encoding="utf-8")
    _print(result, json_out, require_parity)
    if report is not None:
        assert build is not None
        _report(result, suite=report, flag=flag, build=build, actor=actor, db=db, quiet=json_out)
    if not result.passed or (require_parity and result.parity):
        raise typer.Exit(1)


@app.command("record")
def record(
    directory: Dir,
    *,
    scenario: ScenarioOpt = None,
    target: TargetOpt = None,
    cmd: CmdOpt = None,
    both_arms: BothArms = False,
    arm_env: ArmEnv = None,
    junit: Junit = None,
    timeout: Timeout = 60.0,
    report: Report = None,
    flag: ReportFlag = None,
    build: Build = None,
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Run the scenarios and write each one's outputs beside it (NAME.golden.json).

    Nothing is written unless every turn of every scenario ran.
    """
    from phased.migrate.golden import Mode

    _go(Mode.RECORD, directory, scenario=scenario, target=target, cmd=cmd, both_arms=both_arms,
        arm_env=arm_env, require_parity=False, junit=junit, timeout=timeout, warn_unused=True,
        json_out=json_out, report=report, flag=flag, build=build, actor=actor,
        db=db)  # fmt: skip


@app.command("verify")
def verify(
    directory: Dir,
    *,
    scenario: ScenarioOpt = None,
    target: TargetOpt = None,
    cmd: CmdOpt = None,
    both_arms: BothArms = False,
    arm_env: ArmEnv = None,
    require_parity: RequireParity = False,
    junit: Junit = None,
    timeout: Timeout = 60.0,
    warn_unused: WarnUnused = False,
    report: Report = None,
    flag: ReportFlag = None,
    build: Build = None,
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Run the scenarios and compare with the recordings; exit 1 on any difference."""
    from phased.migrate.golden import Mode

    _go(Mode.VERIFY, directory, scenario=scenario, target=target, cmd=cmd, both_arms=both_arms,
        arm_env=arm_env, require_parity=require_parity, junit=junit, timeout=timeout,
        warn_unused=warn_unused, json_out=json_out, report=report, flag=flag, build=build,
        actor=actor, db=db)  # fmt: skip


@app.command("test")
def run_test(
    directory: Dir,
    *,
    scenario: ScenarioOpt = None,
    target: TargetOpt = None,
    cmd: CmdOpt = None,
    both_arms: BothArms = False,
    arm_env: ArmEnv = None,
    require_parity: RequireParity = False,
    junit: Junit = None,
    timeout: Timeout = 60.0,
    report: Report = None,
    flag: ReportFlag = None,
    build: Build = None,
    actor: Actor = None,
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Run the scenarios and check each turn's expectations; exit 1 naming scenario, turn, key."""
    from phased.migrate.golden import Mode

    _go(Mode.TEST, directory, scenario=scenario, target=target, cmd=cmd, both_arms=both_arms,
        arm_env=arm_env, require_parity=require_parity, junit=junit, timeout=timeout,
        warn_unused=True, json_out=json_out, report=report, flag=flag, build=build,
        actor=actor, db=db)  # fmt: skip


def register(root: typer.Typer) -> None:
    """Add ``phased golden`` to the root app."""
    root.add_typer(app, name="golden")
