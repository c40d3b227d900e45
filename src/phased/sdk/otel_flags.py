"""Flag evaluations as OpenTelemetry events, with the feature-flag semantic conventions.

Each sampled evaluation adds a ``feature_flag.evaluation`` event to the
application's current span (the span its own OpenTelemetry setup started for
the request), with ``feature_flag.key``, ``feature_flag.result.variant``,
``feature_flag.result.reason``, ``feature_flag.result.value``,
``feature_flag.context.id`` and ``feature_flag.provider.name``. An event on a
span is kept in memory with the span and exported with it by the
application's own processor: nothing here does I/O, and without a recording
span it costs one sample draw.

Two entry points, both opt-in:

- :func:`instrument` a ``phased.Client`` (``is_enabled``, ``variant``,
  ``evaluate`` and ``track`` record events);
- :class:`OpenTelemetryHook` for applications that evaluate through the
  OpenFeature API (any provider, OFREP included).

Needs ``phased[otel]`` (the OpenTelemetry API).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from phased.core.ofrep import openfeature_reason

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
    from openfeature.hook import HookContext, HookHints

    from phased.core.evaluate import Evaluation
    from phased.sdk.client import Client

__all__ = ["EVENT", "OpenTelemetryHook", "evaluation_attributes", "instrument"]

EVENT = "feature_flag.evaluation"
PROVIDER = "phased"

Sampler = Callable[[], float]


def evaluation_attributes(
    key: str,
    *,
    variant: str | None,
    reason: str,
    value: Any = None,
    context_id: str | None = None,
    provider: str = PROVIDER,
    error_type: str | None = None,
) -> dict[str, Any]:
    """The semantic-convention attributes of one evaluation (``reason`` is OpenFeature's)."""
    attributes: dict[str, Any] = {
        "feature_flag.key": key,
        "feature_flag.provider.name": provider,
        "feature_flag.result.reason": reason.lower(),
    }
    if variant is not None:
        attributes["feature_flag.result.variant"] = variant
    if isinstance(value, bool | int | float | str):
        attributes["feature_flag.result.value"] = value
    if context_id is not None:
        attributes["feature_flag.context.id"] = context_id
    if error_type is not None:
        attributes["error.type"] = error_type
    return attributes


def _record(attributes: Mapping[str, Any]) -> None:
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(EVENT, attributes=attributes)


def instrument(
    client: Client, *, sample_rate: float = 1.0, sampler: Sampler = random.random
) -> Callable[[], None]:
    """Record a sampled share of ``client``'s evaluations as events; returns the undo.

    Args:
        client: the client to instrument (its methods are wrapped on the instance).
        sample_rate: the share of evaluations recorded, 0..1.
        sampler: a uniform draw in [0, 1) (tests pass a fixed one).
    """
    if not 0.0 <= sample_rate <= 1.0:
        from phased.errors import ValidationError

        raise ValidationError(
            f"sample_rate must be between 0 and 1 (got {sample_rate})", field="sample_rate"
        )
    originals = {name: getattr(client, name) for name in ("is_enabled", "variant", "evaluate")}
    originals["track"] = client.track
    evaluate = originals["evaluate"]

    def event(flag: str, context: Mapping[str, Any], result: Evaluation | None = None) -> None:
        try:
            if sampler() >= sample_rate or not trace.get_current_span().is_recording():
                return
            got = result if result is not None else evaluate(flag, **context)
            unit = context.get("user", context.get("session"))
            reason = got.reason
            _record(
                evaluation_attributes(
                    flag,
                    variant=got.variant,
                    reason=openfeature_reason(reason),
                    value=got.value,
                    context_id=None if unit is None else str(unit),
                    error_type="flag_not_found" if reason == "unknown_flag" else None,
                )
            )
        except Exception:  # telemetry must never break an evaluation
            return

    def wrap(name: str) -> Callable[..., Any]:
        original = originals[name]

        def wrapped(flag: str, /, **context: Any) -> Any:
            result = original(flag, **context)
            event(flag, context, result if name == "evaluate" else None)
            return result

        wrapped.__doc__ = original.__doc__
        return wrapped

    for name in originals:
        setattr(client, name, wrap(name))

    def undo() -> None:
        for name in originals:
            client.__dict__.pop(name, None)

    return undo


class OpenTelemetryHook:
    """An OpenFeature hook: every sampled evaluation becomes a ``feature_flag.evaluation`` event.

    ``api.add_hooks([OpenTelemetryHook(sample_rate=0.1)])``. Errors (an unknown
    flag, a type mismatch, an unreachable OFREP server) carry ``error.type``.
    """

    def __init__(self, *, sample_rate: float = 1.0, sampler: Sampler = random.random) -> None:
        self.sample_rate = sample_rate
        self.sampler = sampler

    # The OpenFeature Hook interface (duck-typed so this module does not need
    # the OpenFeature SDK to import): before/after/error are no-ops.
    def before(self, hook_context: HookContext, hints: HookHints) -> None:
        """Nothing before the evaluation."""
        return

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        """Nothing here: ``finally_after`` records successes and errors alike."""
        return

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        """Nothing here: ``finally_after`` sees the error code."""
        return

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        """Record the evaluation on the current span (sampled)."""
        if self.sampler() >= self.sample_rate or not trace.get_current_span().is_recording():
            return
        provider = hook_context.provider_metadata.name if hook_context.provider_metadata else ""
        context = hook_context.evaluation_context
        code = details.error_code
        _record(
            evaluation_attributes(
                details.flag_key,
                variant=details.variant,
                reason=str(details.reason or "unknown"),
                value=details.value,
                context_id=context.targeting_key if context is not None else None,
                provider=provider or "unknown",
                error_type=None if code is None else str(code.value).lower(),
            )
        )

    def supports_flag_value_type(self, flag_type: object) -> bool:
        """Every flag type."""
        return True
