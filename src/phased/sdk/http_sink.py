"""Ship outcome windows to a phased server: ``POST /api/v1/sdk/outcomes``.

The tracker's flush thread calls :meth:`HttpSink.write`, which only splits
the windows into batches, gives each batch an id and puts it on a bounded
queue: it never blocks and never raises. A daemon thread posts the batches
one at a time; a batch that fails for a reason that can pass (network, 408,
429, 5xx) is retried with the same id, with back-off and jitter, so the
server — which remembers the ids it accepted — never counts it twice. A full
queue drops its oldest batch; dropped windows are counted
(``stats.dropped_windows``), logged, and reported to the server with the next
batch that gets through (header ``X-Phased-Dropped-Windows``). ``close()``
drains the queue, bounded by a timeout.

After ``os.fork()`` the child starts with an empty queue (the parent's batches
are the parent's to send), a new HTTP client and no thread until it writes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from phased.sdk.tracker import Window
from phased.sdk.transport import USER_AGENT, Backoff, HttpOption, excerpt, resolve_http

log = logging.getLogger("phased.sdk")

OUTCOMES_PATH = "/api/v1/sdk/outcomes"
MAX_BATCH_WINDOWS = 500
DROPPED_HEADER = "X-Phased-Dropped-Windows"
"""Windows this process lost to a full queue since its last delivered batch."""
_RETRYABLE = frozenset({408, 425, 429})


@dataclass(slots=True)
class SinkStats:
    """What the sink did, for health checks and tests."""

    sent_batches: int = 0
    sent_windows: int = 0
    duplicate_batches: int = 0
    """Batches the server had already counted (a retry after a lost answer)."""
    retries: int = 0
    dropped_windows: int = 0
    """Windows lost to a full queue."""
    rejected_windows: int = 0
    """Windows the server refused for good (a 4xx other than 408/425/429)."""
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """One POST: an id the retries reuse, and the windows."""

    id: str
    windows: list[Window]


class HttpSink:
    """An ``OutcomeSink`` posting batches to a server from its own thread.

    Args:
        url: the server's base URL.
        token: an API token with role ``sdk``.
        environment: the token's environment (every window must be in it).
        http: an ``httpx.Client``, a factory of one, or None for a default.
        max_queue: batches held while the server is slow or down.
        batch_size: windows per POST at most.
    """

    def __init__(
        self,
        url: str,
        token: str,
        environment: str,
        *,
        http: HttpOption = None,
        max_queue: int = 200,
        batch_size: int = MAX_BATCH_WINDOWS,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.environment = environment
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.backoff = backoff or Backoff(base=1.0, cap=60.0)
        self.stats = SinkStats()
        self._headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
        }
        self._http_option = http
        self._http = resolve_http(http)
        self._owns_http = not isinstance(http, httpx.Client)
        self._reported_drops = 0
        self._init_threading()
        _SINKS.add(self)

    def _init_threading(self) -> None:
        self._queue: deque[Batch] = deque()
        self._cond = threading.Condition()
        self._inflight = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- the tracker's side: never blocks, never raises ------------------------

    def write(self, windows: list[Window]) -> None:
        """Queue ``windows`` in batches; drop the oldest batch when the queue is full."""
        if not windows:
            return
        with self._cond:
            for start in range(0, len(windows), self.batch_size):
                chunk = windows[start : start + self.batch_size]
                if len(self._queue) >= self.max_queue:
                    lost = self._queue.popleft()
                    self.stats.dropped_windows += len(lost.windows)
                    log.warning(
                        "phased: outcome queue full (%d batches); dropped %d windows "
                        "(%d in total) — is %s reachable?",
                        self.max_queue,
                        len(lost.windows),
                        self.stats.dropped_windows,
                        self.url,
                    )
                self._queue.append(Batch(uuid.uuid4().hex, chunk))
            self._cond.notify_all()
        if self._thread is None and not self._closed:
            self._start()

    @property
    def pending(self) -> int:
        """Batches queued or being posted."""
        with self._cond:
            return len(self._queue) + self._inflight

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued batch is delivered (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._queue and self._thread is None:
                self._start_locked()
            while self._queue or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the thread."""
        delivered = self.flush(timeout)
        with self._cond:
            self._closed = True
            left = sum(len(b.windows) for b in self._queue)
            self._cond.notify_all()
        if not delivered and left:
            log.warning("phased: closing with %d outcome windows undelivered to %s", left, self.url)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        if self._owns_http:
            self._http.close()

    # -- the sender thread -----------------------------------------------------

    def _start(self) -> None:
        with self._cond:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="phased-outcome-post", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        attempt = 0
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = self._queue.popleft()
                self._inflight = 1
            wait = self._post(batch)
            with self._cond:
                self._inflight = 0
                if wait is not None:
                    self._queue.appendleft(batch)  # same id: the server counts it once
                self._cond.notify_all()
                if wait is None:
                    attempt = 0
                    continue
                if self._closed:
                    return
                attempt += 1
                self.stats.retries += 1
                # New writes notify too; only close() may cut the back-off short.
                deadline = time.monotonic() + max(wait, self.backoff.delay(attempt))
                while not self._closed and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)

    def _post(self, batch: Batch) -> float | None:
        """POST one batch; None when done with it, else seconds to wait before a retry."""
        body: dict[str, Any] = {
            "batch_id": batch.id,
            "environment": self.environment,
            "windows": [{"key": k.to_dict(), "aggregate": a.to_dict()} for k, a in batch.windows],
        }
        headers = self._headers
        drops = self.stats.dropped_windows - self._reported_drops
        if drops:
            # A header, not a body field: a server that does not read it still
            # accepts the batch (the body schema is strict).
            headers = {**headers, DROPPED_HEADER: str(drops)}
        try:
            response = self._http.post(
                self.url + OUTCOMES_PATH,
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            return self._retry(f"POST {OUTCOMES_PATH}: {type(exc).__name__}: {exc}", 0.0)
        status = response.status_code
        if 200 <= status < 300:
            self._reported_drops += drops
            self.stats.sent_batches += 1
            self.stats.sent_windows += len(batch.windows)
            if _duplicate(response):
                self.stats.duplicate_batches += 1
            return None
        error = f"POST {OUTCOMES_PATH}: HTTP {status}: {excerpt(response)}"
        if status in _RETRYABLE or status >= 500:
            return self._retry(error, _retry_after(response))
        self.stats.rejected_windows += len(batch.windows)
        self.stats.last_error = error
        log.error("phased: server refused %d outcome windows: %s", len(batch.windows), error)
        return None

    def _retry(self, error: str, wait: float) -> float:
        if self.stats.last_error is None or self.stats.retries % 50 == 0:
            log.warning("phased: %s; will retry", error)
        self.stats.last_error = error
        return wait

    def _after_fork(self) -> None:
        self._http = resolve_http(self._http_option, after_fork=True)
        self._owns_http = True
        self._init_threading()


def _duplicate(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("duplicate"))
    except Exception:
        return False


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", "0")), 300.0)
    except ValueError:
        return 0.0


_SINKS: weakref.WeakSet[HttpSink] = weakref.WeakSet()


def _reset_in_child() -> None:
    for sink in list(_SINKS):
        sink._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
