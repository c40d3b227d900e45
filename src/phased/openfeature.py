"""An OpenFeature provider backed by any ``phased.Client``.

    from openfeature import api
    from phased.openfeature import PhasedProvider

    api.set_provider(PhasedProvider(phased.Client(url=..., token=..., environment="prod")))
    api.get_client().get_boolean_value("new-checkout", False, EvaluationContext("user-1"))

The evaluation context's targeting key becomes phased's ``user`` (unless the
attributes name a ``user`` themselves); every attribute is passed through as
context. Booleans resolve boolean flags, strings resolve the variant of a
multivariate flag, integers and floats read the variant name as a number
(variants ``"10"``, ``"25"``, ``"0.5"``) and objects come from the
``values`` table, which can give any flag's variants typed payloads.

Phased's reason text is kept in ``flag_metadata["reason"]``; the OpenFeature
``Reason`` is derived from it (see :func:`openfeature_reason`). Resolution
never raises: an unknown flag or a mismatched type returns the caller's
default with an error code, as the OpenFeature specification asks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from phased.core import ofrep

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagValueType

    from phased.core.evaluate import Evaluation
    from phased.sdk.client import Client

__all__ = ["PhasedProvider", "openfeature_reason"]

T = TypeVar("T")
ObjectValue = Sequence["FlagValueType"] | Mapping[str, "FlagValueType"]


def openfeature_reason(reason: str) -> Reason:
    """The OpenFeature ``Reason`` for a phased reason text.

    ``override:``, ``segment:``, ``rule:`` -> TARGETING_MATCH; ``rollout:`` ->
    SPLIT; ``default`` -> DEFAULT; ``killed`` and an unmet ``prerequisite:`` ->
    DISABLED (the flag is off for everyone it reaches); ``env_var:`` -> STATIC
    (pinned by the process environment, no evaluation); anything else (unknown
    flag, an error) -> ERROR. The same mapping OFREP answers with
    (:func:`phased.core.ofrep.openfeature_reason`).
    """
    return Reason(ofrep.openfeature_reason(reason))


class PhasedProvider(AbstractProvider):
    """Resolves OpenFeature flags through a ``phased.Client``.

    Args:
        client: any phased client (from a file, the local store or a server).
        values: optional typed payloads, ``{flag: {variant: value}}``; a flag
            listed here resolves to its variant's payload when the payload has
            the requested type (an object per variant, a number per variant);
            otherwise to the value itself (the variant name, true/false).
        close_client: close the client (flushing its outcomes) on ``shutdown``.
    """

    def __init__(
        self,
        client: Client,
        *,
        values: Mapping[str, Mapping[str, FlagValueType]] | None = None,
        close_client: bool = False,
    ) -> None:
        super().__init__()
        self.client = client
        self.values = {k: dict(v) for k, v in (values or {}).items()}
        self.close_client = close_client
        self._unsubscribe: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        """The provider's name, as OpenFeature shows it."""
        return Metadata(name="phased")

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Forward the client's flag-set updates as configuration-changed events."""
        subscribe = getattr(self.client, "on_update", None)
        if subscribe is not None and self._unsubscribe is None:
            self._unsubscribe = subscribe(self._changed)

    def shutdown(self) -> None:
        """Stop forwarding updates; close the client if this provider owns it."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.close_client:
            self.client.close()

    # -- tracking ----------------------------------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Record one use of a flag as a phased outcome (OpenFeature's tracking API).

        ``client.track("new-checkout", ctx, TrackingEventDetails(value=182.0,
        attributes={"error": False, "fallback": True, "cost_usd": 0.002}))``:
        the event's name is the flag (or ``attributes["flag"]``); its ``value``
        is the latency in milliseconds; the attributes ``error``, ``fallback``,
        ``retries``, ``cost_usd`` and ``arm`` are phased's outcome fields and
        every other numeric attribute a custom metric. The arm is what the flag
        serves this context (``candidate`` when on / not the off variant)
        unless ``arm`` says otherwise. Never raises: an unknown flag or a
        malformed detail is dropped.
        """
        try:
            attributes: dict[str, Any] = (
                dict(tracking_event_details.attributes) if tracking_event_details else {}
            )
            flag = str(attributes.pop("flag", tracking_event_name))
            if flag not in self.client.flagset.flags:
                return
            context = _context(evaluation_context)
            arm = attributes.pop("arm", None)
            if arm is None:
                arm = "candidate" if self.client.is_enabled(flag, **context) else "control"
            latency = tracking_event_details.value if tracking_event_details else None
            error = bool(attributes.pop("error", False))
            fallback = bool(attributes.pop("fallback", False))
            retries = int(attributes.pop("retries", 0) or 0)
            cost = float(attributes.pop("cost_usd", 0.0) or 0.0)
            metrics = {
                k: float(v)
                for k, v in attributes.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            unit = context.get("user", context.get("session"))
            self.client.record(
                flag,
                arm=str(arm),
                latency_ms=latency,
                error=error,
                fallback=fallback,
                retries=retries,
                cost_usd=cost,
                user=None if unit is None else str(unit),
                metrics=metrics or None,
            )
        except Exception:  # tracking must never break the application
            return

    def _changed(self) -> None:
        if hasattr(self, "_on_emit"):
            keys = list(self.client.flagset.flags)
            self.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=keys))

    # -- resolution ------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """A boolean flag's value."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_bool)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """A multivariate flag's variant name."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_str)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """A multivariate flag whose variant names are whole numbers."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_int)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """A multivariate flag whose variant names are numbers."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_float)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """A flag's variant payload from ``values``."""
        return self._resolve(flag_key, default_value, evaluation_context, _as_object)

    def _resolve(
        self,
        flag_key: str,
        default: T,
        evaluation_context: EvaluationContext | None,
        convert: Callable[[Any], T | None],
    ) -> FlagResolutionDetails[T]:
        try:
            result: Evaluation = self.client.evaluate(flag_key, **_context(evaluation_context))
        except Exception as exc:  # a custom client must not break the caller either
            return _error(default, ErrorCode.GENERAL, f"{flag_key}: {exc}")
        reason = result.reason
        if reason == "unknown_flag":
            return _error(
                default,
                ErrorCode.FLAG_NOT_FOUND,
                f"flag {flag_key!r} is not in the {self.client.environment!r} flag set; "
                "create it or check the key",
            )
        if reason.startswith("error:"):
            return _error(default, ErrorCode.GENERAL, f"{flag_key}: {reason}")
        raw: Any = result.value
        value = None
        payloads: Mapping[str, Any] | None = self.values.get(flag_key)
        if payloads is None:
            flag = self.client.flagset.flags.get(flag_key)
            payloads = flag.payloads if flag is not None else None
        if payloads is not None and result.variant in payloads:
            value = convert(payloads[result.variant])
        if value is None:
            value = convert(raw)
        if value is None:
            return _error(
                default,
                ErrorCode.TYPE_MISMATCH,
                f"flag {flag_key!r} serves {raw!r} (variant {result.variant!r}), "
                f"not a {type(default).__name__}; use the getter for its type or map "
                "its variants with PhasedProvider(values=...)",
            )
        return FlagResolutionDetails(
            value=value,
            reason=openfeature_reason(reason),
            variant=result.variant,
            flag_metadata={"reason": reason},
        )


def _context(ctx: EvaluationContext | None) -> dict[str, Any]:
    if ctx is None:
        return {}
    out = dict(ctx.attributes)
    if ctx.targeting_key is not None:
        out.setdefault("user", ctx.targeting_key)
    return out


def _error(default: T, code: ErrorCode, message: str) -> FlagResolutionDetails[T]:
    return FlagResolutionDetails(
        value=default, reason=Reason.ERROR, error_code=code, error_message=message
    )


# Converters return None when the value is not of the requested type.


def _as_bool(raw: Any) -> bool | None:
    return raw if isinstance(raw, bool) else None


def _as_str(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return None
    return None


def _as_float(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _as_object(raw: Any) -> ObjectValue | None:
    if isinstance(raw, Mapping) or (isinstance(raw, Sequence) and not isinstance(raw, str)):
        return raw
    return None
