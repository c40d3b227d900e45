"""The only door to the process environment: one ``Settings`` object.

Every knob is a typed field read from ``PHASED_*`` variables (or a ``.env``
file); tests build ``Settings(...)`` directly instead of editing ``os.environ``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from phased.errors import ConfigurationError

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")
_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Settings(BaseSettings):
    """Process-wide configuration, prefixed ``PHASED_``."""

    model_config = SettingsConfigDict(env_prefix="PHASED_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./phased.db",
        description="SQLAlchemy URL of the store; postgresql+psycopg://... for several replicas.",
    )
    env: str = Field(default="dev", description="Default environment for commands and clients.")
    environments: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_ENVIRONMENTS,
        description="The environments every flag has a state in: dev,staging,prod "
        'or a JSON list ["dev", "staging", "prod"].',
    )
    actor: str | None = Field(default=None, description="Who is making changes (CLI --actor).")
    server: str | None = Field(default=None, description="URL of a phased server to talk to.")
    token: str | None = Field(default=None, description="API token for PHASED_SERVER.")
    json_logging: bool = Field(default=True, description="JSON lines (true) or console logs.")
    log_level: str = Field(default="info", description="debug, info, warn or error.")
    service: str = Field(default="phased", description="The `service` field of every log line.")
    alerts_config: Path = Field(
        default=Path("alerts.yaml"), description="The alert channels file (docs/alerts.md)."
    )
    sources_config: Path = Field(
        default=Path("sources.yaml"),
        description="The metric sources file (docs/sources.md); missing: no sources.",
    )
    trace_file: Path = Field(
        default=Path(".phased/traces.jsonl"),
        description="Where CLI runs keep their traces for `phased debug-last`.",
    )
    leader_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often a follower tries to take the leader lock."
    )
    outcome_batch_retention_days: float = Field(
        default=7.0, gt=0, description="Engine: how long outcome batch ids are remembered."
    )
    rollup_lateness_seconds: float = Field(
        default=300.0, ge=0, description="Engine: outcome slots older than this are rolled up."
    )

    @field_validator("environments", mode="before")
    @classmethod
    def _split_environments(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError(
                        'not a JSON list; write dev,staging,prod or ["dev", "prod"]'
                    ) from None
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("a JSON list of environment names is expected")
            else:
                value = [part for part in text.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            names = tuple(str(v).strip() for v in value)
            if not names or not all(names):
                raise ValueError("no environment named; write dev,staging,prod")
            for name in names:
                if not _ENVIRONMENT_NAME.fullmatch(name):
                    raise ValueError(
                        f"{name!r} is not an environment name (letters, digits, _ . -)"
                    )
            if len(set(names)) != len(names):
                raise ValueError("an environment is named twice")
            return names
        return value


def load_settings(settings_class: type[Settings] | None = None, **values: Any) -> Settings:
    """``Settings(**values)``; a bad ``PHASED_*`` value is one :class:`ConfigurationError`.

    ``settings_class`` is a subclass to build instead (``ServerSettings``).

    The message names the variable, the value and the fix, e.g.
    ``PHASED_ENVIRONMENTS: 'dev prod': 'dev prod' is not an environment name (...)``.
    """
    try:
        return (settings_class or Settings)(**values)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else "settings"
        got = first.get("input")
        shown = f" {got!r}:" if isinstance(got, str | int | float) else ""
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigurationError(
            f"PHASED_{name.upper()}:{shown} {reason}", field=f"PHASED_{name.upper()}"
        ) from None
    except SettingsError as exc:
        raise ConfigurationError(f"settings: {exc}", field="settings") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
