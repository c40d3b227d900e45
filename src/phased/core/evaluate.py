"""Compile a flag set once; evaluate with a lookup, a few comparisons and one hash.

Order of precedence for one flag in one environment:

1. ``env_var`` set in the evaluating process (read when the set is compiled)
2. the kill switch (``enabled: false``) -> the off value, reason ``killed``
3. prerequisites -> the off value, reason ``prerequisite:<flag>``
4. overrides (user, then session, then other attributes), skipping expired ones
5. rules, first match wins
6. the percentage rollout, sticky on ``stickiness`` (``user`` falls back to
   ``session``; a context with neither gets the default, never a random value)
7. the environment's default

This order is written once, in :func:`_precedence`, which generates two
Python functions per flag from it: ``value(ctx)`` for the hot path (no reason
strings are built) and ``explain(ctx)`` behind ``evaluate()``, with a readable
reason. Both take the hash and the bucket arithmetic from
:mod:`phased.core.bucketing`. Property tests check that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from functools import lru_cache
from types import CodeType
from typing import Any, NamedTuple

from phased.core.bucketing import (
    BUCKETS,
    SOURCE_GLOBALS,
    hash_source,
    pick_variant,
    rollout_source,
    threshold,
    variant_source,
)
from phased.core.clock import EpochClock
from phased.core.conditions import compile_condition
from phased.core.flags import Flag, FlagSet, Value

Context = Mapping[str, Any]

_TRUE = frozenset({"1", "true", "yes", "on", "enabled"})
_FALSE = frozenset({"0", "false", "no", "off", "disabled", ""})


class Evaluation(NamedTuple):
    """The outcome of evaluating one flag for one context."""

    value: Value
    """``True``/``False`` or the variant name."""
    variant: str
    """``on``/``off`` for boolean flags, the variant name otherwise."""
    reason: str
    """Why, in words: ``segment:admins``, ``rollout:bucket 1834/10000 < 2500``, ``killed``."""


def variant_of(value: Value) -> str:
    """The variant label of a value."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


def parse_env_value(flag: Flag, raw: str) -> Value | None:
    """Read an environment variable's text as a value of ``flag`` (None if it is not one)."""
    text = raw.strip()
    if flag.variants is not None:
        return text if text in flag.variants else None
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


@dataclass(slots=True)
class CompiledFlag:
    """One flag in one environment, reduced to plain values and closures."""

    key: str
    off: Value
    default: Value
    is_boolean: bool
    forced: tuple[Value, str] | None = None
    prerequisites: tuple[tuple[str, Value], ...] = ()
    overrides: tuple[tuple[str, dict[str, tuple[Value, float | None, str]]], ...] = ()
    rules: tuple[tuple[Callable[[Context], bool], Value | None, str], ...] = ()
    threshold: int = 0
    prefix: str = ""
    stickiness: str = "user"
    cumulative: tuple[tuple[int, str], ...] = ()
    value: Callable[[Context], Value] = field(default=lambda ctx: False)
    explain: Callable[[Context], tuple[Value, str]] | None = None
    """``(value, reason)``; generated on the first ``evaluate()`` of the flag."""


class CompiledFlagSet:
    """A flag set compiled for one environment. Evaluation never raises and does no I/O."""

    __slots__ = ("_flags", "clock", "enabled", "environment", "source")

    def __init__(
        self,
        flagset: FlagSet,
        environment: str,
        *,
        env: Mapping[str, str] | None = None,
        clock: EpochClock,
    ) -> None:
        self.environment = environment
        self.source = flagset
        self.clock = clock
        self._flags: dict[str, CompiledFlag] = {}
        self.enabled: dict[str, Callable[[Context], bool]] = {}
        """Per flag, a predicate "is it on for this context" (the fastest path)."""
        for key, flag in flagset.flags.items():
            cf = self._flags[key] = self._compile(flagset, flag, env or {})
            self.enabled[key] = cf.value if cf.is_boolean else _differs(cf.value, cf.off)  # type: ignore[assignment]

    def __contains__(self, key: object) -> bool:
        return key in self._flags

    def keys(self) -> list[str]:
        """The flag keys, in file order."""
        return list(self._flags)

    def get(self, key: str) -> CompiledFlag | None:
        """The compiled flag, or None when the set has no such flag."""
        return self._flags.get(key)

    # -- compilation ---------------------------------------------------------

    def _compile(self, flagset: FlagSet, flag: Flag, env: Mapping[str, str]) -> CompiledFlag:
        state = flag.state(self.environment)
        off = flag.off_value
        default = off if state.default is None else state.default
        cf = CompiledFlag(key=flag.key, off=off, default=default, is_boolean=flag.variants is None)
        raw = env.get(flag.env_var) if flag.env_var else None
        forced = parse_env_value(flag, raw) if raw is not None else None
        if forced is not None:
            cf.forced = (forced, f"env_var:{flag.env_var}")
        elif not state.enabled:
            cf.forced = (off, "killed")
        cf.prerequisites = tuple((r.flag, r.is_) for r in flag.requires)
        tables: dict[str, dict[str, tuple[Value, float | None, str]]] = {}
        for o in sorted(state.overrides, key=lambda o: _override_rank(o.attribute)):
            expires = (
                o.expires.replace(tzinfo=o.expires.tzinfo or UTC).timestamp() if o.expires else None
            )
            tables.setdefault(o.attribute, {}).setdefault(
                o.value, (o.serve, expires, f"override:{o.label}")
            )
        cf.overrides = tuple(tables.items())
        rules = []
        for rule in state.rules:
            preds = []
            if rule.segment is not None:
                preds.append(compile_condition(flagset.segments[rule.segment].where))
            if rule.where is not None:
                preds.append(compile_condition(rule.where))
            pred = preds[0] if len(preds) == 1 else _both(preds[0], preds[1])
            rules.append((pred, rule.serve, rule.label))
        cf.rules = tuple(rules)
        cf.threshold = threshold(state.rollout)
        cf.prefix = f"{flag.salt or flag.key}"
        cf.stickiness = flag.stickiness
        if flag.variants is not None:
            upper, cumulative = 0, []
            for name, weight in flag.variants.items():
                upper += weight * (BUCKETS // 100)
                if weight:
                    cumulative.append((upper, name))
            cf.cumulative = tuple(cumulative)
        cf.value = self._fast(cf)
        return cf

    def _fast(self, cf: CompiledFlag) -> Callable[[Context], Value]:
        fn: Callable[[Context], Value] = self._generate(cf, explain=False)
        return fn

    def _explain(self, cf: CompiledFlag) -> Callable[[Context], tuple[Value, str]]:
        fn: Callable[[Context], tuple[Value, str]] = self._generate(cf, explain=True)
        return fn

    def _generate(self, cf: CompiledFlag, *, explain: bool) -> Any:
        # The functions are generated per flag so that they hold only the
        # steps this flag has: an empty override table or rule list costs
        # nothing, and the common `attr in [...]` test is inlined. All values
        # reach the code through its namespace; only reprs of str/int are
        # interpolated.
        ns: dict[str, Any] = {
            **SOURCE_GLOBALS,
            "_flags": self._flags,
            "_pick": pick_variant,
            "_clock": self.clock,
            "_cum": cf.cumulative,
            "_off": cf.off,
            "_default": cf.default,
            "_salt": cf.prefix,
        }
        body = _precedence(cf, ns, explain=explain)
        unit = _unit_lines(cf)
        split = [
            "def _split(ctx):",
            *("    " + line for line in unit),
            "    if _u is None: return _default",
            f"    _x = {hash_source('_salt', '_u')}",
            f"    return _pick({variant_source('_x')}, _cum)",
        ]
        name = "explain" if explain else "value"
        source = "\n".join([*split, f"def {name}(ctx):", *("    " + line for line in body)])
        exec(_compile_source(source, f"<phased flag {cf.key} {name}>"), ns)
        return ns[name]

    # -- evaluation ----------------------------------------------------------

    def evaluate(self, key: str, ctx: Context) -> Evaluation:
        """Value, variant and reason of ``key`` for ``ctx``; ``unknown_flag`` if absent."""
        cf = self._flags.get(key)
        if cf is None:
            return Evaluation(False, "off", "unknown_flag")
        explain = cf.explain
        if explain is None:
            explain = cf.explain = self._explain(cf)
        value, reason = explain(ctx)
        return Evaluation(value, variant_of(value), reason)

    def is_enabled(self, key: str, ctx: Context) -> bool:
        """True when the flag is on (boolean) or serves a variant other than its off variant."""
        fn = self.enabled.get(key)
        return False if fn is None else fn(ctx)


@lru_cache(maxsize=4096)
def _compile_source(source: str, name: str) -> CodeType:
    # Python's compiler is most of the cost of compiling a flag set; an SDK
    # that receives a new set recompiles every flag, and the generated source
    # of an unchanged flag is the same text (values live in the namespace).
    return compile(source, name, "exec")


def _precedence(cf: CompiledFlag, ns: dict[str, Any], *, explain: bool) -> list[str]:
    """The body of ``value(ctx)`` (or, with ``explain``, ``explain(ctx)``): the one precedence.

    Each step ends in ``ret(value, reason)``, which returns the value alone on
    the hot path and ``(value, reason)`` when explaining; the reason
    expressions are never evaluated on the hot path.
    """

    def ret(value: str, reason: str) -> str:
        return f"return ({value}, {reason})" if explain else f"return {value}"

    # 1-2. the process's env var, then the kill switch
    if cf.forced is not None:
        ns.update(_forced=cf.forced[0], _why=cf.forced[1])
        return [ret("_forced", "_why")]
    body: list[str] = []
    # 3. prerequisites: another flag's hot-path value
    for i, (key, expected) in enumerate(cf.prerequisites):
        ns[f"_e{i}"] = expected
        body += [
            f"_o = _flags.get({key!r})",
            f"if _o is None or _o.value(ctx) != _e{i}: {ret('_off', repr(f'prerequisite:{key}'))}",
        ]
    # 4. overrides (user, session, other attributes), unexpired
    for i, (attr, table) in enumerate(cf.overrides):
        ns[f"_t{i}"] = table
        body += [
            f"_g = ctx.get({attr!r})",
            "if _g is not None:",
            f"    _h = _t{i}.get(_g if type(_g) is str else str(_g))",
            "    if _h is not None and (_h[1] is None or _h[1] > _clock()):",
            f"        {ret('_h[0]', '_h[2]')}",
        ]
    # 5. rules, first match wins; a rule serving nothing serves the variant split
    for i, (pred, served, label) in enumerate(cf.rules):
        ns[f"_p{i}"] = pred
        ns[f"_l{i}"] = label
        if served is None and cf.cumulative:
            action = ret("_split(ctx)", f"_l{i}")
        else:
            ns[f"_r{i}"] = True if served is None else served
            action = ret(f"_r{i}", f"_l{i}")
        members = getattr(pred, "members", None)
        if members is not None and not getattr(pred, "negate", True):
            ns[f"_s{i}"] = members
            body += [
                f"_g = ctx.get({pred.attr!r})",  # type: ignore[attr-defined]
                "if _g is not None:",
                "    try:",
                f"        if _g in _s{i}: {action}",
                "    except TypeError: pass",
            ]
        else:
            body.append(f"if _p{i}(ctx): {action}")
    # 6. the percentage rollout, sticky on the unit (no unit: no rollout)
    if cf.threshold:
        body += [*_unit_lines(cf), "if _u is not None:", f"    _x = {hash_source('_salt', '_u')}"]
        if explain:
            reason = f"f'rollout:bucket {{_b}}/{BUCKETS} < {cf.threshold}'"
            body.append(f"    _b = {rollout_source('_x')}")
            test = f"_b < {cf.threshold}"
        else:
            reason = ""
            test = f"{rollout_source('_x')} < {cf.threshold}"
        if cf.cumulative:
            body += [
                f"    if {test}:",
                f"        _n = _pick({variant_source('_x')}, _cum)",
                f"        {ret('_n', reason)}",
            ]
        else:
            body.append(f"    if {test}: {ret('True', reason)}")
    # 7. the environment's default
    body.append(ret("_default", "'default'"))
    return body


def _unit_lines(cf: CompiledFlag) -> list[str]:
    """``_u``: the sticky unit of the context (``user`` falls back to ``session``)."""
    unit = [f"_u = ctx.get({cf.stickiness!r})"]
    if cf.stickiness == "user":
        unit.append("if _u is None: _u = ctx.get('session')")
    return unit


def _differs(value: Callable[[Context], Value], off: Value) -> Callable[[Context], bool]:
    return lambda ctx: value(ctx) != off


def _both(a: Callable[[Context], bool], b: Callable[[Context], bool]) -> Callable[[Context], bool]:
    return lambda ctx: a(ctx) and b(ctx)


def _override_rank(attribute: str) -> int:
    return {"user": 0, "session": 1}.get(attribute, 2)
