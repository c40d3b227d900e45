"""YAML configuration text: a mapping, ``${NAME}`` expansion, validation into a model.

Shared by the alerts config (phased/alerts/config.py) and the sources config
(phased/sources/config.py), which read the same kind of file. Pure: the callers
read the file and pass its text and the environment in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from phased.errors import ConfigurationError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_Model = TypeVar("_Model", bound=BaseModel)


def expand_env(value: Any, environ: Mapping[str, str], path: str = "") -> Any:
    """``value`` with every ``${NAME}`` in its strings replaced by ``environ[NAME]``.

    Dicts and lists are walked; ``path`` is where ``value`` sits (``channels.ops.url``).

    Raises:
        ConfigurationError: a variable is not set, naming it and the field.
    """
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigurationError(
                    f"refers to ${{{name}}}, which is not set; export {name} or remove it",
                    field=path,
                )
            return environ[name]

        return _VAR.sub(lookup, value)
    if isinstance(value, dict):
        return {
            k: expand_env(v, environ, f"{path}.{k}" if path else str(k)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [expand_env(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def parse_mapping(text: str, origin: str, *, key: str, field: str) -> dict[str, Any] | None:
    """The YAML ``text`` read from ``origin`` as a mapping, or None for an empty document.

    ``key`` is the top-level key the document should have (named in the error),
    ``field`` the field the errors carry.

    Raises:
        ConfigurationError: the text is not YAML or not a mapping.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{origin}: not valid YAML: {exc}", field=field) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigurationError(
            f"{origin}: must be a mapping with a `{key}:` key (got {type(data).__name__})",
            field=field,
        )
    return data


def first_error(
    exc: PydanticValidationError, prefix: str = "", *, secret: Collection[str] = ()
) -> ConfigurationError:
    """The first error of a failed validation as one ConfigurationError naming field and value.

    The value is masked (``***``) when the field's path contains one of ``secret``
    (``headers``), so credentials never reach a message or log.
    """
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    shown = "***" if any(s in field for s in secret) else repr(first.get("input"))
    return ConfigurationError(f"{prefix}{field}: {first['msg']} (got {shown})", field=field)


def validate_config(
    model: type[_Model],
    check: Callable[[_Model], _Model],
    data: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    *,
    source: str = "",
    secret: Collection[str] = (),
) -> _Model:
    """``data`` (the parsed YAML) with ``${NAME}`` expanded, validated into ``model``, checked.

    ``check`` is the model's own check (known kinds, required fields), run after
    validation; ``source`` (the file) prefixes every message; ``secret`` as in
    :func:`first_error`.

    Raises:
        ConfigurationError: naming the field, the value and the fix.
    """
    expanded = expand_env(dict(data or {}), environ)
    prefix = f"{source}: " if source else ""
    try:
        config = model.model_validate(expanded)
    except PydanticValidationError as exc:
        raise first_error(exc, prefix, secret=secret) from None
    try:
        return check(config)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{prefix}{exc}", field=exc.field) from None
