"""Every CLI command records an execution trace, so ``phased debug-last`` can show it.

The root group wraps each invocation in :func:`command` (once, in
``main.py``): the trace is named after the command (``flag create``), its
user is the actor (``--actor``, PHASED_ACTOR, or over a server the token's
owner), each call into the service layer made through
:func:`phased.cli.common.open_backend` is one step (✅ or ❌ with its time), and a
refusal is the trace's error. Finished traces are appended, redacted, to
PHASED_TRACE_FILE (default ``.phased/traces.jsonl``).

``debug-last`` itself and ``--help`` are not recorded: reading the last trace
must not replace it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

import typer
from typer.core import TyperGroup

from phased.core.clock import utc_now

if TYPE_CHECKING:
    from phased.obs.traces import ExecutionTrace

T = TypeVar("T")

UNTRACED = frozenset({"debug-last", "serve"})
"""Commands that record no trace: reading the last trace must not replace it, and
``serve`` runs for days (its requests have their own traces) and must create
nothing before its checks pass."""

_current: ContextVar[ExecutionTrace | None] = ContextVar("phased_cli_trace", default=None)
_actor: ContextVar[str | None] = ContextVar("phased_cli_actor", default=None)


def command_name(group: TyperGroup, ctx: Any) -> str | None:
    """``flag create`` for ``phased flag create KEY ...``; None when nothing is to be traced."""
    args = [*ctx._protected_args, *ctx.args]
    if not args or any(a in ("--help", "-h") for a in args):
        return None
    words = [args[0]]
    sub = group.get_command(ctx, args[0])
    if isinstance(sub, TyperGroup) and len(args) > 1 and not args[1].startswith("-"):
        words.append(args[1])
    name = " ".join(words)
    return None if name in UNTRACED else name


def claimed_actor(ctx: Any) -> str | None:
    """The ``--actor`` on the command line, else PHASED_ACTOR (before the command parses)."""
    args: list[str] = [*ctx._protected_args, *ctx.args]
    for i, arg in enumerate(args):
        if arg == "--actor" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--actor="):
            return arg.split("=", 1)[1]
    from phased.cli.common import settings

    return settings().actor


def note_actor(name: str) -> None:
    """The actor the command resolved (the token's owner over a server)."""
    _actor.set(name)


def refused(line: str) -> None:
    """Record the one-line refusal the command ends with as the trace's error."""
    current = _current.get()
    if current is not None:
        from phased.obs.redact import redact_text

        current.error = redact_text(line)


@contextmanager
def command(name: str, user: str | None) -> Iterator[ExecutionTrace]:
    """Record one command: time it, collect its steps, persist it when it ends."""
    from phased.obs.log import context
    from phased.obs.traceparent import new_trace_id
    from phased.obs.traces import ExecutionTrace

    recorded = ExecutionTrace(
        trace_id=new_trace_id(), command=name, user=user, started_at=utc_now()
    )
    trace_token = _current.set(recorded)
    actor_token = _actor.set(None)
    error: BaseException | str | None = None
    try:
        with context(trace_id=recorded.trace_id, user_id=user, cmd=name):
            yield recorded
    except typer.Exit as exc:
        if exc.exit_code and recorded.error is None:
            error = f"exit {exc.exit_code}"
        raise
    except typer.TyperException as exc:  # a usage mistake (exit 2)
        error = f"usage: {exc}"
        raise
    except BaseException as exc:
        error = exc
        raise
    finally:
        recorded.user = _actor.get() or user
        _current.reset(trace_token)
        _actor.reset(actor_token)
        if not recorded.steps:
            recorded.step(name, status="failed" if error or recorded.error else "ok")
        recorded.finish(error)
        _persist(recorded)


def _persist(recorded: ExecutionTrace) -> None:
    """Keep the trace in this process's store and append it to the trace file."""
    from phased.cli.common import settings
    from phased.obs.tracefile import append_trace
    from phased.obs.traces import get_trace_store

    get_trace_store().add(recorded)
    try:
        append_trace(settings().trace_file, recorded)
    except OSError:
        # The trace is a debugging aid: a read-only working directory must not
        # fail the command it describes, nor add a line to its one-line errors.
        return


def traced(area: T, name: str) -> T:
    """``area`` (of a backend) with each method call recorded as a step of the current trace."""
    if _current.get() is None:
        return area
    # Duck-typed: the proxy has every method of the area, each wrapped.
    return cast("T", _TracedArea(area, name))


class _TracedArea:
    """A backend area whose methods record a trace step per call (``flags.create_flag``)."""

    def __init__(self, area: object, name: str) -> None:
        self._area = area
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._area, attr)
        if not callable(value) or isinstance(value, type):
            return value
        return _step(value, f"{self._name}.{attr}")


def _step(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    @wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        current = _current.get()
        if current is None:
            return fn(*args, **kwargs)
        # A flag or segment key is shown as `name`: the redaction rules hide any `key`.
        details: dict[str, Any] = {
            ("name" if k == "key" else k): v
            for k, v in kwargs.items()
            if k != "actor" and isinstance(v, str | int | float | bool) and len(str(v)) <= 80
        }
        step = current.step(label)
        step.details.update(details)  # not as keywords: `name` and `status` are step()'s own
        with step:
            return fn(*args, **kwargs)

    return call
