"""Cross-field rules of stage hooks that only the whole stage can check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.core.plans.extensions import HOOK_PHASES

if TYPE_CHECKING:
    from phased.core.plans.model import Stage


def check_hook_checklist(stage: Stage, where: str) -> None:
    """A hook may tick only a checklist item its stage has; hook names are unique per stage."""
    seen: set[str] = set()
    for phase in HOOK_PHASES:
        for j, hook in enumerate(stage.hooks.of(phase)):
            path = f"{where}.hooks.{phase}[{j}]"
            if hook.name in seen:
                raise ValueError(f"{path}.name: {hook.name!r} is used twice in this stage")
            seen.add(hook.name)
            if hook.checklist is not None and hook.checklist not in stage.checklist:
                items = "; ".join(stage.checklist) or "none"
                raise ValueError(
                    f"{path}.checklist: {hook.checklist!r} is not an item of this stage's "
                    f"checklist (items: {items})"
                )
            if hook.checklist is not None and phase != "pre_stage":
                raise ValueError(
                    f"{path}.checklist: only a pre_stage hook can tick a checklist item "
                    "(the items are needed before the stage starts)"
                )
