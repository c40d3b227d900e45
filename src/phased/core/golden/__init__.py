"""Golden scenarios, pure parts: reading a scenario, checking expectations, diffing outputs.

A scenario is a file (YAML or JSON) with a ``name``, a ``seed`` and ordered
``turns``; each turn has an ``input`` and an ``expect`` mapping. The runner
(``phased.migrate.golden``) calls the system under test; everything here takes
values and returns values.
"""

from __future__ import annotations

from phased.core.golden.expect import Failure, check_turn, text_of
from phased.core.golden.jsondiff import diff_values
from phased.core.golden.scenario import Scenario, Scrubber, Turn, parse_scenario
from phased.core.golden.scrub import scrub

__all__ = [
    "Failure",
    "Scenario",
    "Scrubber",
    "Turn",
    "check_turn",
    "diff_values",
    "parse_scenario",
    "scrub",
    "text_of",
]
