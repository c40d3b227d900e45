"""The engine: the reconcile loop around ``decide``, its clocks, and leader election.

The loop only reads (rollouts, outcome totals), calls the pure
:func:`phased.core.decide.decide`, and hands each decision to the service
layer, which is the only writer. See ``docs/rollouts.md``.
"""
