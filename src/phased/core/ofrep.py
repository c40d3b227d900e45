"""The OpenFeature Remote Evaluation Protocol (OFREP) as pure functions.

The server's ``/ofrep/v1`` routes read a request body, pick the environment's
compiled flag set and hand both here; this module turns them into the
protocol's answers (the open-feature/protocol OpenAPI document, v0.3):

- a request body is ``{"context": {...}}``; malformed JSON or a body that is
  not an object is ``PARSE_ERROR``, a context that is not an object or a
  ``targetingKey`` that is not a string is ``INVALID_CONTEXT``;
- the context's ``targetingKey`` becomes phased's ``user`` (unless the context
  names a ``user`` itself); every other attribute passes through as it is;
- the evaluation is :meth:`CompiledFlagSet.evaluate`, the one the SDK runs;
  the value is the flag's payload for the variant when the flag declares
  ``payloads``, else the value itself (true/false or the variant name);
- the reason is mapped to OpenFeature's (:func:`openfeature_reason`) and
  phased's own reason text rides in ``metadata.reason``;
- a context that reaches a percentage split without the attribute the split
  is sticky on is ``TARGETING_KEY_MISSING`` (the SDK would serve the default:
  OFREP says so instead, and the provider serves the caller's default).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from phased.core.evaluate import CompiledFlagSet, Evaluation

ErrorCode = Literal[
    "PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL", "FLAG_NOT_FOUND"
]

MAX_BODY_BYTES = 256 * 1024
"""Larger request bodies are refused as PARSE_ERROR before they are parsed."""

_TARGETING = ("override:", "segment:", "rule:")


def openfeature_reason(reason: str) -> str:
    """OpenFeature's resolution reason for a phased reason text.

    ``override:``, ``segment:``, ``rule:`` -> TARGETING_MATCH; ``rollout:`` ->
    SPLIT; ``default`` -> DEFAULT; ``killed`` and an unmet ``prerequisite:`` ->
    DISABLED (the flag is off for everyone it reaches); ``env_var:`` -> STATIC
    (pinned by the process environment, no evaluation); anything else (unknown
    flag, an error) -> ERROR.
    """
    if reason.startswith(_TARGETING):
        return "TARGETING_MATCH"
    if reason.startswith("rollout:"):
        return "SPLIT"
    if reason == "default":
        return "DEFAULT"
    if reason == "killed" or reason.startswith("prerequisite:"):
        return "DISABLED"
    if reason.startswith("env_var:"):
        return "STATIC"
    return "ERROR"


@dataclass(frozen=True, slots=True)
class OfrepError:
    """A request-level failure: the protocol's error code and a message naming the fix."""

    code: ErrorCode
    details: str


@dataclass(frozen=True, slots=True)
class Result:
    """One flag's answer: ``body`` is the protocol's JSON object, ``status`` its HTTP status."""

    body: dict[str, Any]
    status: int = 200
    failed: bool = field(default=False)


def parse_request(raw: bytes) -> dict[str, Any] | OfrepError:
    """The phased context of an evaluation request body, or why it is refused."""
    if len(raw) > MAX_BODY_BYTES:
        return OfrepError(
            "PARSE_ERROR",
            f"request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} "
            "(send only the attributes targeting needs)",
        )
    if not raw.strip():
        return OfrepError(
            "PARSE_ERROR", 'request body is empty; send {"context": {"targetingKey": "..."}}'
        )
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return OfrepError(
            "PARSE_ERROR",
            f'request body is not JSON ({exc}); send {{"context": {{"targetingKey": "..."}}}}',
        )
    if not isinstance(body, dict):
        return OfrepError(
            "PARSE_ERROR",
            f"request body is a JSON {_json_type(body)}, not an object; send "
            '{"context": {"targetingKey": "..."}}',
        )
    return context_of(body.get("context", {}))


def context_of(raw: Any) -> dict[str, Any] | OfrepError:
    """phased's context for an OFREP context: ``targetingKey`` becomes ``user``."""
    if not isinstance(raw, dict):
        return OfrepError(
            "INVALID_CONTEXT",
            f"context is a JSON {_json_type(raw)}, not an object; send "
            '{"context": {"targetingKey": "user-1", ...}}',
        )
    ctx = dict(raw)
    key = ctx.pop("targetingKey", None)
    if key is not None:
        if not isinstance(key, str):
            return OfrepError(
                "INVALID_CONTEXT",
                f"context.targetingKey is a JSON {_json_type(key)} ({key!r}); it must be a string",
            )
        ctx.setdefault("user", key)
    return ctx


def evaluate(
    flags: CompiledFlagSet,
    key: str,
    ctx: Mapping[str, Any],
    *,
    stage: str | None = None,
) -> Result:
    """One flag's OFREP answer (success, or a failure with its status)."""
    compiled = flags.get(key)
    if compiled is None:
        return failure(
            key,
            "FLAG_NOT_FOUND",
            f"flag {key!r} is not in the {flags.environment!r} flag set; create it or check "
            "the key",
            status=404,
        )
    try:
        result = flags.evaluate(key, ctx)
    except Exception as exc:  # a condition meeting an odd value must not become a 500
        return failure(key, "GENERAL", f"flag {key!r} could not be evaluated: {exc}")
    missing = _missing_unit(flags, key, ctx, result)
    if missing is not None:
        return failure(
            key,
            "TARGETING_KEY_MISSING",
            f"flag {key!r} is a percentage rollout sticky on {missing!r}; send a "
            f"targetingKey (or a {missing!r} attribute) in the context",
        )
    flag = flags.source.flags[key]
    value: Any = result.value
    if flag.payloads is not None and result.variant in flag.payloads:
        value = flag.payloads[result.variant]
    metadata: dict[str, Any] = {
        "reason": result.reason,
        "environment": flags.environment,
        # What phased.Client.track() would call this use: outcome reporters
        # in other languages label their windows with it.
        "arm": "control" if result.value == compiled.off else "candidate",
    }
    if stage:
        metadata["stage"] = stage
    return Result(
        {
            "key": key,
            "value": value,
            "reason": openfeature_reason(result.reason),
            "variant": result.variant,
            "metadata": metadata,
        }
    )


def evaluate_all(
    flags: CompiledFlagSet, ctx: Mapping[str, Any], stages: Mapping[str, str]
) -> dict[str, Any]:
    """The bulk answer: every flag of the environment, each a success or a failure."""
    items = [evaluate(flags, key, ctx, stage=stages.get(key)).body for key in flags.source.flags]
    return {"flags": items, "metadata": {"environment": flags.environment}}


def failure(key: str | None, code: ErrorCode, details: str, *, status: int = 400) -> Result:
    """A failure body: ``evaluationFailure`` (or ``flagNotFound``), ``bulkEvaluationFailure``
    when ``key`` is None."""
    body: dict[str, Any] = {} if key is None else {"key": key}
    body.update(errorCode=code, errorDetails=details)
    return Result(body, status, failed=True)


def _missing_unit(
    flags: CompiledFlagSet, key: str, ctx: Mapping[str, Any], result: Evaluation
) -> str | None:
    # The attribute a split needed and the context lacked, when the evaluation
    # reached a split (the rollout, or a rule serving the weighted split).
    compiled = flags.get(key)
    if compiled is None or compiled.forced is not None:
        return None
    reached_split = (compiled.threshold > 0 and result.reason == "default") or (
        bool(compiled.cumulative)
        and any(served is None and label == result.reason for _, served, label in compiled.rules)
    )
    if not reached_split:
        return None
    unit = ctx.get(compiled.stickiness)
    if unit is None and compiled.stickiness == "user":
        unit = ctx.get("session")
    return compiled.stickiness if unit is None else None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
