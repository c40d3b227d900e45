"""The judge: sequential comparisons of the candidate arm with the control arm.

Every comparison returns a ``Comparison`` (never raises on data) whose
``e_value`` is valid under continuous monitoring: a healthy candidate reaches
``threshold`` (``1/alpha``, or for rates the exact, lower threshold of
``calibration``) with probability at most ``alpha`` however often it is checked.
``split_budget`` turns the plan's ``analysis.false_rollback_rate`` into one
``alpha`` per compared metric. The method is described in docs/analysis.md.

Typical use inside ``decide``::

    alphas = split_budget(plan.analysis.false_rollback_rate, ["error_rate", "latency_p95_ms"])
    verdict = compare_metric("error_rate", cand_agg, ctrl_agg, alpha=alphas["error_rate"])
    if verdict.harmful:
        ...roll back, with verdict.reason...
"""

from phased.core.analysis.budget import DEFAULT_FALSE_ROLLBACK_RATE, split_budget
from phased.core.analysis.comparison import Comparison
from phased.core.analysis.dispatch import compare_metric, is_comparable
from phased.core.analysis.evalue import Counts
from phased.core.analysis.latency import compare_latency
from phased.core.analysis.rates import compare_rate

__all__ = [
    "DEFAULT_FALSE_ROLLBACK_RATE",
    "Comparison",
    "Counts",
    "compare_latency",
    "compare_metric",
    "compare_rate",
    "is_comparable",
    "split_budget",
]
