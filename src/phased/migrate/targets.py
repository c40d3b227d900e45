"""The system under test of a golden run: a Python callable or a command.

A callable (``--target module:function``, imported with the current directory
on ``sys.path``) is called once per turn as
``target(input, seed=..., turn=..., state=...)``; ``state`` is a dict kept
across the turns of one scenario. It may also take ``arm`` (``"on"``/``"off"``
under ``--both-arms``; None otherwise) and ``scenario`` (the name).

A command (``--cmd "..."``) runs once per turn with the turn's input on stdin
(a string as is, anything else as JSON) and its output read from stdout (JSON
when it parses, else the text without the trailing newline). It learns the
rest from the environment: ``PHASED_GOLDEN_SCENARIO``, ``PHASED_GOLDEN_SEED``,
``PHASED_GOLDEN_TURN`` and ``PHASED_GOLDEN_ARM``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from phased.errors import ValidationError

ARM_ENV = "PHASED_GOLDEN_ARM"


class TargetError(Exception):
    """One turn of the target failed (raised, timed out, exited non-zero, returned non-JSON)."""


@dataclass(frozen=True, slots=True)
class Call:
    """Everything one turn passes to the target."""

    input: Any
    seed: int | str | None
    turn: int
    state: dict[str, Any]
    scenario: str
    arm: str | None = None


class Target(Protocol):
    """Runs one turn; raises :class:`TargetError` when it fails."""

    label: str

    def __call__(self, call: Call) -> Any: ...


def _jsonable(value: Any, label: str) -> Any:
    try:
        return json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise TargetError(
            f"{label} returned a {type(value).__name__}, which is not text or JSON ({exc})"
        ) from None


class CallableTarget:
    """A Python function, called once per turn."""

    def __init__(self, fn: Callable[..., Any], label: str) -> None:
        self.fn = fn
        self.label = label
        try:
            params = dict(inspect.signature(fn).parameters)
        except (TypeError, ValueError):  # builtins without a signature
            params = {}
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        self._extra = {n for n in ("arm", "scenario") if var_kw or n in params}

    def __call__(self, call: Call) -> Any:
        kwargs: dict[str, Any] = {"seed": call.seed, "turn": call.turn, "state": call.state}
        if "arm" in self._extra:
            kwargs["arm"] = call.arm
        if "scenario" in self._extra:
            kwargs["scenario"] = call.scenario
        try:
            value = self.fn(call.input, **kwargs)
        except Exception as exc:
            raise TargetError(f"{self.label} raised {type(exc).__name__}: {exc}") from exc
        return _jsonable(value, self.label)


class CommandTarget:
    """A command run once per turn: input on stdin, output on stdout."""

    def __init__(self, command: str, *, timeout: float = 60.0, arm_env: str | None = None) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise ValidationError(f"cannot split {command!r} ({exc})", field="--cmd") from None
        if not self.argv:
            raise ValidationError("the command is empty", field="--cmd")
        self.label = command
        self.timeout = timeout
        self.arm_env = arm_env

    def __call__(self, call: Call) -> Any:
        stdin = call.input if isinstance(call.input, str) else json.dumps(call.input)
        env = dict(os.environ)
        env.update(
            PHASED_GOLDEN_SCENARIO=call.scenario,
            PHASED_GOLDEN_SEED="" if call.seed is None else str(call.seed),
            PHASED_GOLDEN_TURN=str(call.turn),
        )
        if call.arm is not None:
            env[ARM_ENV] = call.arm
            if self.arm_env:
                env[self.arm_env] = "true" if call.arm == "on" else "false"
        try:
            done = subprocess.run(
                self.argv,
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TargetError(f"{self.label!r} did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise TargetError(f"{self.label!r} could not start: {exc}") from None
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-1:])
            raise TargetError(f"{self.label!r} exited {done.returncode}: {tail}")
        out = done.stdout
        try:
            return json.loads(out)
        except ValueError:
            return out[:-1] if out.endswith("\n") else out


def import_target(spec: str) -> CallableTarget:
    """Import ``module:function`` (the current directory first on ``sys.path``).

    Raises:
        ValidationError: naming ``--target``, the spec and what went wrong.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValidationError(
            f"{spec!r} is not module:function (e.g. --target mypkg.turns:run_turn)",
            field="--target",
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValidationError(
            f"cannot import {module_name!r} ({type(exc).__name__}: {exc}); run from the "
            "directory that holds it or put it on PYTHONPATH",
            field="--target",
        ) from None
    fn: Any = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ValidationError(
                f"{module_name!r} has no attribute {attr!r}", field="--target"
            ) from None
    if not callable(fn):
        raise ValidationError(f"{spec!r} is a {type(fn).__name__}, not callable", field="--target")
    return CallableTarget(fn, spec)
