"""HTTP plumbing shared by the flag sync and the outcome sink.

An injected ``httpx.Client`` (or a factory of one), back-off with jitter, a
server-sent-events parser and atomic file writes. Nothing here evaluates flags.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from phased import __version__

USER_AGENT = f"phased-python/{__version__}"

HttpFactory = Callable[[], httpx.Client]
HttpOption = httpx.Client | HttpFactory | None
"""An ``httpx.Client`` to use, a zero-argument factory of one (preferred under
pre-forking servers: the child calls it for its own client), or None."""


def default_http(timeout: float = 10.0) -> httpx.Client:
    """The HTTP client used when none is injected (keep-alive pool, short connect timeout)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=3.0),
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_keepalive_connections=4, max_connections=8),
    )


def resolve_http(option: HttpOption, *, after_fork: bool = False) -> httpx.Client:
    """The client to use for ``option``; after a fork never the parent's instance."""
    if option is None:
        return default_http()
    if isinstance(option, httpx.Client):
        if not after_fork:
            return option
        # The parent's client holds the parent's sockets and perhaps a lock taken
        # by one of its threads at fork time: build a fresh one with its settings.
        return httpx.Client(
            timeout=option.timeout,
            headers=option.headers,
            follow_redirects=option.follow_redirects,
        )
    return option()


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with full jitter: uniform(0, min(cap, base * 2**attempt))."""

    base: float = 0.5
    cap: float = 30.0
    floor: float = 0.05
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        ceiling = min(self.cap, self.base * (2 ** min(max(attempt - 1, 0), 30)))
        return max(self.floor, self.rng.uniform(0.0, ceiling))


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One server-sent event."""

    name: str
    data: str
    id: str | None = None


def iter_events(lines: Iterable[str]) -> Iterator[ServerEvent | None]:
    """Parse ``text/event-stream`` lines; yields None for each comment (a heartbeat)."""
    name, event_id = "message", None
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield ServerEvent(name, "\n".join(data), event_id)
            name, data = "message", []
            continue
        if line.startswith(":"):
            yield None
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
        elif key == "id":
            event_id = value


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def excerpt(response: httpx.Response) -> str:
    """The start of a response body, on one line, for error messages."""
    try:
        text = response.text
    except Exception:
        return ""
    return " ".join(text.split())[:200]
