"""What ``plan validate`` can know about hooks only on this machine: do the commands exist."""

from __future__ import annotations

import os
import shutil

from phased.core.plans.extensions import HOOK_PHASES
from phased.core.plans.model import Plan
from phased.core.source import parse_loc, parse_yaml


def missing_program(program: str) -> str | None:
    """Why ``program`` cannot run here (None when it can)."""
    if os.sep in program:
        if not os.path.isfile(program):
            return f"{program} does not exist"
        if not os.access(program, os.X_OK):
            return f"{program} is not executable (chmod +x)"
        return None
    if shutil.which(program) is None:
        return f"{program!r} is not on PATH"
    return None


def check_hook_commands(plan: Plan, text: str, path: str) -> None:
    """Raise a ``file:line: field`` SourceError for a hook command that cannot run here."""
    for i, stage in enumerate(plan.stages):
        for phase in HOOK_PHASES:
            for j, hook in enumerate(stage.hooks.of(phase)):
                if hook.command is None:
                    continue
                why = missing_program(hook.command[0])
                if why is not None:
                    field = f"stages[{i}].hooks.{phase}[{j}].command"
                    raise parse_yaml(text, path).error(
                        f"hook {hook.name!r}: {why}; install it or give its full path",
                        parse_loc(field),
                    )
