"""Metric sources: where gate and trigger numbers come from besides the phased SDK.

One module per provider behind :class:`~phased.sources.base.MetricSource`
(``prometheus``, ``web``, ``sdk``), one registry (:mod:`phased.sources.registry`),
the definitions in sources.yaml (:mod:`phased.sources.config`), and the
engine's side (:mod:`phased.sources.measure`): query before ``decide``,
record every query, hand the numbers in. See docs/sources.md.
"""
