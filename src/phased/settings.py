"""The only door to the process environment: one ``Settings`` object.

Every knob is a typed field read from ``PHASED_*`` variables (or a ``.env``
file); tests build ``Settings(...)`` directly instead of editing ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


class Settings(BaseSettings):
    """Process-wide configuration, prefixed ``PHASED_``."""

    model_config = SettingsConfigDict(env_prefix="PHASED_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./phased.db",
        description="SQLAlchemy URL of the store; postgresql+psycopg://... for several replicas.",
    )
    env: str = Field(default="dev", description="Default environment for commands and clients.")
    environments: tuple[str, ...] = Field(
        default=DEFAULT_ENVIRONMENTS, description="The environments every flag has a state in."
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
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
