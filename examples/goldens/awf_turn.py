"""A small deterministic turn engine for the golden examples (seed 003's AWF pipeline).

``run_turn(input, seed=, turn=, state=, arm=)`` is the call protocol of
``phased golden``: the same seed and input always give the same output. The
``off`` arm is the legacy turn path: same narration, but it offers up to six
choices and never reports a scene change, which the parity report shows.

    phased golden test examples/goldens --target examples.goldens.awf_turn:run_turn
"""

from __future__ import annotations

import random
from typing import Any

CHOICES = (
    "Call out to the eyes",
    "Step closer, slowly",
    "Draw your blade",
    "Offer the bread from your pack",
    "Back away into the trees",
    "Wait in silence",
)


def run_turn(
    text: str, *, seed: int | str | None, turn: int, state: dict[str, Any], arm: str | None = None
) -> dict[str, Any]:
    """One turn: narration echoing the player's words, a few choices, a scene flag."""
    rng = random.Random(f"{seed}:{turn}:{text}")
    words = [w.strip(".,!?").lower() for w in text.split()]
    place = "glade" if "glade" in words else "forest"
    state["scene"] = place
    legacy = arm == "off"
    count = 6 if legacy else rng.randint(3, 5)
    return {
        "text": f"You stand in the {place}. Between the ferns, a pair of amber eyes "
        f"watches you: Kiera. Turn {turn + 1}.",
        "choices": list(CHOICES[:count]),
        "sceneChange": (not legacy) and turn == 0,
    }
