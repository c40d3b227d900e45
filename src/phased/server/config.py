"""Server knobs: :class:`ServerSettings` extends the process :class:`Settings`.

Same ``PHASED_`` prefix, same rule: tests build ``ServerSettings(...)``
instead of editing the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from phased.settings import Settings


class ServerSettings(Settings):
    """What ``phased serve`` reads besides the store and the environments."""

    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8700, ge=0, le=65535, description="TCP port (0: any free port).")
    mutations_per_minute: float = Field(
        default=120.0, gt=0, description="Sustained mutations a token may make per minute."
    )
    mutation_burst: int = Field(default=30, ge=1, description="Mutations a token may make at once.")
    revision_poll_seconds: float = Field(
        default=0.2,
        gt=0,
        le=5,
        description="How often the store revision is checked (bounds SDK propagation).",
    )
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Idle time after which the SDK stream sends a comment."
    )
    engine: bool = Field(default=True, description="Run the reconcile loop (when leading).")
    engine_interval_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between two reconcile passes."
    )
    leader_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often a follower tries to take the leader lock."
    )
    bootstrap: bool = Field(
        default=True,
        description="On an empty store: load the examples and print the first admin token.",
    )
    examples_dir: Path = Field(
        default=Path("examples"), description="Where the bootstrap finds flags.yaml and plans/."
    )
    demo_traffic: bool = Field(
        default=False,
        description="DEMO ONLY: feed synthetic outcomes to running rollouts in dev.",
    )
