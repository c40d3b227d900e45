"""The flags file: one YAML document of segments and flags (GitOps format).

``phased flags export`` writes it, ``phased flags apply`` reads it back, and
``Client.from_file`` evaluates straight from it. See ``docs/flags-file.md``.
"""

from __future__ import annotations

from typing import Any

import yaml

from phased.core.flags import FlagSet
from phased.core.source import Document, parse_yaml

FORMAT_VERSION = 1


def parse_flagset(text: str, path: str = "<string>") -> FlagSet:
    """Parse and validate a flags file.

    Raises:
        SourceError: ``file:line: field: problem`` for the first mistake.
    """
    doc = parse_yaml(text, path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("a flags file is a mapping with 'flags' (and optionally 'segments')")
    version = data.pop("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise doc.error(
            f"unsupported version {version!r}; this phased reads version 1", ["version"]
        )
    for section in ("flags", "segments"):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise doc.error(f"'{section}' is a mapping of name -> definition", [section])
        for name in entries:
            if entries[name] is None:
                entries[name] = {}
            if not isinstance(entries[name], dict):
                raise doc.error("expected a mapping of fields", [section, name])
            entries[name].setdefault("key", name)
    return Document(data, doc.lines, path).validate(FlagSet)


def dump_flagset(flagset: FlagSet, environment: str | None = None) -> str:
    """The flags file text for ``flagset`` (one environment's state only, if given)."""
    raw: dict[str, Any] = flagset.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # The file speaks for the environments it lists: an export of one
    # environment lists only that one, so applying it leaves the others alone.
    envs_out = list(flagset.environments) if environment is None else [environment]
    out: dict[str, Any] = {"version": FORMAT_VERSION, "environments": envs_out}
    segments = raw.get("segments") or {}
    if segments:
        out["segments"] = {k: _without_key(v) for k, v in segments.items()}
    flags: dict[str, Any] = {}
    for key, entry in (raw.get("flags") or {}).items():
        body = _without_key(entry)
        envs = body.get("environments")
        if environment is not None and envs is not None:
            body["environments"] = {e: s for e, s in envs.items() if e == environment}
        flags[key] = body
    out["flags"] = flags
    return yaml.safe_dump(_tidy(out), sort_keys=False, allow_unicode=True, default_flow_style=None)


def _without_key(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "key"}


def _tidy(value: Any) -> Any:
    # 25.0 reads better as 25 in a file people review.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value
