"""The service layer: the one place that changes the store.

Every call names an actor and runs in one transaction: load, a pure
transformation of the core models, a version-checked write, and an audit
entry per changed flag or segment (see :mod:`phased.service.base`).
Modules by resource: ``flags``, ``rollouts``, ``overrides``, ``segments``,
``apply`` (declarative), ``audit`` (read-only).
"""
