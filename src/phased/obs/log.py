"""Structured logging: one JSON object per line, built on structlog.

Every line carries, in this order, ``ts`` (ISO 8601, UTC), ``level``
(``debug``, ``info``, ``warn`` — exactly ``warn`` —, ``error``), ``service``,
``fn``, ``trace_id``, ``correlation_id``, ``user_id``, ``cmd`` and ``msg``,
then any extra fields. The context fields come from :func:`set_context`, kept
in contextvars so threads and asyncio tasks never see each other's values.
Every line is passed through :func:`phased.obs.redact.redact_secrets`.

Call :func:`configure_logging` once at start-up (the CLI, the server and the
engine do); applications may call it too and log through :func:`get_logger`.
Records from the standard library's :mod:`logging` (uvicorn, alembic, your
own modules) are rendered the same way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars
from structlog.processors import CallsiteParameter, CallsiteParameterAdder

from phased.core.clock import utc_now
from phased.errors import ConfigurationError
from phased.obs.redact import redact_secrets

if TYPE_CHECKING:
    from phased.settings import Settings

LEVELS: tuple[str, ...] = ("debug", "info", "warn", "error")
CONTEXT_FIELDS: tuple[str, ...] = ("trace_id", "correlation_id", "user_id", "cmd")
FIXED_FIELDS: tuple[str, ...] = ("ts", "level", "service", "fn", *CONTEXT_FIELDS, "msg")

_STDLIB_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}
_STDLIB_LEVELS["error"] = logging.ERROR

# structlog (and the stdlib) name the method or level "warning"; seed 001 wants
# "warn" on the wire, and only four levels.
_LEVEL_NAMES = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "exception": "error",
    "critical": "error",
    "fatal": "error",
}

EventDict = MutableMapping[str, Any]


def _add_level(_: Any, method_name: str, event_dict: EventDict) -> EventDict:
    raw = str(event_dict.pop("level", method_name)).lower()
    event_dict["level"] = _LEVEL_NAMES.get(raw, raw)
    return event_dict


def _add_timestamp(_: Any, __: str, event_dict: EventDict) -> EventDict:
    event_dict["ts"] = utc_now().isoformat()
    return event_dict


def _service_adder(service: str) -> Any:
    def add_service(_: Any, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def _shape(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """Rename structlog's names to the seed's and put the fixed fields first."""
    if "event" in event_dict:
        event_dict["msg"] = event_dict.pop("event")
    if "func_name" in event_dict:
        event_dict["fn"] = event_dict.pop("func_name")
    if "logger_name" in event_dict:
        event_dict["logger"] = event_dict.pop("logger_name")
    for name in ("_record", "_from_structlog"):
        event_dict.pop(name, None)
    shaped: dict[str, Any] = {name: event_dict.pop(name, None) for name in FIXED_FIELDS}
    shaped.update(event_dict)
    return shaped


def _redact(_: Any, __: str, event_dict: EventDict) -> EventDict:
    redacted: EventDict = redact_secrets(dict(event_dict))
    return redacted


def _processors(service: str) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        _add_level,
        _add_timestamp,
        _service_adder(service),
        CallsiteParameterAdder({CallsiteParameter.FUNC_NAME}, additional_ignores=["phased.obs"]),
        structlog.processors.format_exc_info,
        _shape,
        _redact,
    ]


def configure_logging(
    settings: Settings | None = None,
    *,
    stream: TextIO | None = None,
    json: bool | None = None,
    level: str | None = None,
    service: str | None = None,
) -> None:
    """Configure structlog and the stdlib root logger for this process.

    Args:
        settings: source of ``json_logging``, ``log_level`` and ``service``;
            the process settings when omitted.
        stream: where lines go; standard error by default (standard output
            stays free for command results).
        json: override ``settings.json_logging`` (False: readable console lines).
        level: override ``settings.log_level``: debug, info, warn or error.
        service: override ``settings.service``.

    Raises:
        ConfigurationError: the level is not one of debug, info, warn, error.
    """
    if settings is None:
        from phased.settings import get_settings

        settings = get_settings()
    use_json = settings.json_logging if json is None else json
    level_name = (level or settings.log_level).lower()
    if level_name == "warning":
        level_name = "warn"
    if level_name not in LEVELS:
        raise ConfigurationError(
            f"must be one of {', '.join(LEVELS)} (got {level_name!r}); set PHASED_LOG_LEVEL",
            field="log_level",
        )
    out = stream if stream is not None else sys.stderr
    shared = _processors(service or settings.service)
    renderer: Any = (
        structlog.processors.JSONRenderer(default=str, ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    console_rename: list[Any] = [] if use_json else [_console_event]
    structlog.configure(
        processors=[*shared, *console_rename, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_STDLIB_LEVELS[level_name]),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared[:-2],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _shape,
                _redact,
                *console_rename,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(old)
    handler._phased = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(_STDLIB_LEVELS[level_name])


def _console_event(_: Any, __: str, event_dict: EventDict) -> EventDict:
    # The console renderer expects structlog's own key names.
    event_dict["event"] = event_dict.pop("msg", "")
    event_dict["timestamp"] = event_dict.pop("ts", None)
    return {k: v for k, v in event_dict.items() if v is not None}


def get_logger(name: str | None = None, **initial: Any) -> Any:
    """A structlog logger; ``name`` becomes the ``logger`` field when given."""
    if name is not None:
        # Not `logger=`: that keyword means something else to structlog. Renamed
        # back to `logger` by _shape. Lazy, so module-level loggers follow a later
        # configure_logging().
        initial["logger_name"] = name
    return structlog.get_logger(**initial)


def set_context(
    *,
    trace_id: str | None = None,
    correlation_id: str | None = None,
    user_id: str | None = None,
    cmd: str | None = None,
    **extra: Any,
) -> None:
    """Bind context fields for the current thread or asyncio task.

    Only the arguments given are changed; pass extra keywords to add fields of
    your own to every following line.
    """
    given = {
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "user_id": user_id,
        "cmd": cmd,
    }
    bind_contextvars(**{k: v for k, v in given.items() if v is not None}, **extra)


def clear_context() -> None:
    """Forget every context field of the current thread or asyncio task."""
    clear_contextvars()


def get_context() -> dict[str, Any]:
    """The context fields bound in the current thread or asyncio task."""
    return structlog.contextvars.get_contextvars()


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Bind fields for the ``with`` block only, restoring the previous values after."""
    with bound_contextvars(**{k: v for k, v in fields.items() if v is not None}):
        yield
