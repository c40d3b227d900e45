"""Keep a client's flag set current from a phased server.

One daemon thread per client: a conditional ``GET /api/v1/sdk/flags``
(``If-None-Match`` -> 304 costs the server a string comparison), then the
server-sent-events stream ``GET /api/v1/sdk/stream``; each event naming a new
ETag triggers one conditional fetch. While the stream is down the thread polls
every ``poll_interval`` and reconnects with exponential back-off and full
jitter, so a restarted server is not hit by every client at the same instant.

Evaluation never waits on any of this: the thread swaps a compiled flag set
into the client (``Client.update``), and readers see either the old or the new
set. Every payload received is written to a backup file (atomically: a
temporary file, then ``os.replace``); a client that starts while the server is
down evaluates from it, and with neither every flag gets its safe default.

Pre-forking servers (gunicorn ``--preload``, uWSGI): after ``os.fork()`` the
child drops the parent's HTTP client and sockets without touching them (no
shutdown, which would cut the parent's connection too) and starts its own
thread with its own connections. See ``docs/sdk.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from phased.core.flags import FlagSet
from phased.core.source import Document
from phased.errors import ConfigurationError
from phased.sdk.transport import (
    USER_AGENT,
    Backoff,
    HttpOption,
    ServerEvent,
    excerpt,
    iter_events,
    resolve_http,
    write_atomic,
)

log = logging.getLogger("phased.sdk")

FLAGS_PATH = "/api/v1/sdk/flags"
STREAM_PATH = "/api/v1/sdk/stream"

Apply = Callable[[FlagSet, dict[str, str]], None]
BackupOption = str | os.PathLike[str] | Literal[False] | None


@dataclass(slots=True)
class SyncStatus:
    """What the sync thread knows, for health checks, logs and tests."""

    source: Literal["none", "backup", "server"] = "none"
    """Where the flag set being evaluated came from."""
    etag: str | None = None
    updates: int = 0
    """Flag sets installed from the server since start."""
    fetches: int = 0
    not_modified: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success: float | None = None
    stream_connected: bool = False
    stream_connects: int = 0
    backup_path: str | None = None
    backup_error: str | None = None


class RemoteSync:
    """Fetches a flag set from a server and follows its changes in a daemon thread.

    Args:
        url: the server's base URL (``http://127.0.0.1:8700``).
        token: an API token with role ``sdk``.
        environment: the environment the token reads (sent so a mismatch is refused).
        apply: called with each new flag set and the flags' rollout stages.
        http: an ``httpx.Client``, a factory of one, or None for a default.
        backup_path: where the last flag set is kept; None for the default
            location under ``~/.cache/phased``, False for no backup file.
        poll_interval: seconds between polls while the stream is unavailable.
        stream: follow the server-sent-events stream (False: poll only).
    """

    def __init__(
        self,
        url: str,
        token: str,
        environment: str,
        apply: Apply,
        *,
        http: HttpOption = None,
        backup_path: BackupOption = None,
        poll_interval: float = 15.0,
        stream: bool = True,
        stream_read_timeout: float = 45.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.environment = environment
        self.poll_interval = poll_interval
        self.stream = stream
        self.stream_read_timeout = stream_read_timeout
        self.backoff = backoff or Backoff()
        self.status = SyncStatus()
        self._apply = apply
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
        self._params = {"environment": environment}
        self._http_option = http
        self._http = resolve_http(http)
        self._owns_http = not isinstance(http, httpx.Client)
        self.backup = default_backup_path(self.url, environment) if backup_path is None else None
        if backup_path:
            self.backup = Path(backup_path)
        self.status.backup_path = None if self.backup is None else str(self.backup)
        self._init_threading()
        _SYNCS.add(self)

    def _init_threading(self) -> None:
        self._stop = threading.Event()
        self._attempted = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: httpx.Response | None = None
        self._last_fetch = 0.0
        self._stream_supported = self.stream

    # -- lifecycle -------------------------------------------------------------

    def load_backup(self) -> bool:
        """Install the backup file's flag set, if there is a readable one for this environment."""
        if self.backup is None:
            return False
        try:
            saved = json.loads(self.backup.read_bytes())
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            self.status.backup_error = f"unreadable backup {self.backup}: {exc}"
            log.warning("phased: %s; starting without it", self.status.backup_error)
            return False
        try:
            if saved.get("environment") != self.environment:
                raise ValueError(
                    f"it holds environment {saved.get('environment')!r}, not {self.environment!r}"
                )
            flagset, stages = parse_payload(saved["payload"], f"backup {self.backup}")
        except Exception as exc:
            self.status.backup_error = f"unusable backup {self.backup}: {exc}"
            log.warning("phased: %s; starting without it", self.status.backup_error)
            return False
        self._apply(flagset, stages)
        self.status.source = "backup"
        self.status.etag = saved.get("etag")
        log.info("phased: evaluating from backup %s until the server answers", self.backup)
        return True

    def start(self) -> None:
        """Start the sync thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="phased-flag-sync", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a flag set came from the server (True) or ``timeout`` passed (False)."""
        return self._ready.wait(timeout)

    def wait_attempted(self, timeout: float) -> bool:
        """Wait until the first fetch finished, successfully or not."""
        return self._attempted.wait(timeout)

    @property
    def ready(self) -> bool:
        """Whether a flag set has come from the server since start."""
        return self._ready.is_set()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the thread; the last flag set stays installed.

        A fetch stuck on a silent server is not waited for beyond ``timeout``:
        the thread is a daemon and ends at its read timeout.
        """
        self._stop.set()
        self._abort_stream(shutdown=True)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self._owns_http:
            self._http.close()

    # -- one fetch -------------------------------------------------------------

    def refresh(self) -> bool:
        """One conditional fetch; True when a new flag set was installed. Never raises."""
        headers = dict(self._headers)
        if self.status.etag:
            headers["If-None-Match"] = self.status.etag
        self._last_fetch = time.monotonic()
        self.status.fetches += 1
        try:
            response = self._http.get(self.url + FLAGS_PATH, headers=headers, params=self._params)
        except httpx.HTTPError as exc:
            self._failed(f"GET {FLAGS_PATH}: {type(exc).__name__}: {exc}")
            return False
        if response.status_code == 304:
            self.status.not_modified += 1
            self._succeeded()
            return False
        if response.status_code != 200:
            self._failed(f"GET {FLAGS_PATH}: HTTP {response.status_code}: {excerpt(response)}")
            return False
        try:
            payload = json.loads(response.content)
            flagset, stages = parse_payload(payload, self.url + FLAGS_PATH)
        except Exception as exc:
            self._failed(f"GET {FLAGS_PATH}: unusable payload: {exc}")
            return False
        try:
            self._apply(flagset, stages)
        except Exception as exc:  # compiling must not kill the thread; keep the old set
            self._failed(f"could not install the flag set: {type(exc).__name__}: {exc}")
            return False
        self.status.etag = response.headers.get("etag")
        self.status.source = "server"
        self.status.updates += 1
        self._succeeded()
        self._ready.set()
        self._save_backup(payload)
        return True

    def _succeeded(self) -> None:
        if self.status.consecutive_failures:
            log.info("phased: server %s reachable again", self.url)
        self.status.consecutive_failures = 0
        self.status.last_success = time.time()

    def _failed(self, error: str) -> None:
        self.status.failures += 1
        self.status.consecutive_failures += 1
        self.status.last_error = error
        n = self.status.consecutive_failures
        if n == 1 or n % 100 == 0:  # once per outage, then rarely
            log.warning("phased: %s (failure %d; evaluating from %s)", error, n, self.status.source)

    def _save_backup(self, payload: Any) -> None:
        if self.backup is None:
            return
        document = {
            "format": 1,
            "environment": self.environment,
            "etag": self.status.etag,
            "saved_at": time.time(),
            "payload": payload,
        }
        try:
            write_atomic(self.backup, json.dumps(document, separators=(",", ":")).encode())
            self.status.backup_error = None
        except OSError as exc:
            if self.status.backup_error is None:
                log.warning("phased: cannot write backup %s: %s", self.backup, exc)
            self.status.backup_error = f"cannot write backup {self.backup}: {exc}"

    # -- the thread ------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while True:
            self.refresh()  # catch up before (re)connecting the stream
            self._attempted.set()
            if self._stop.is_set():
                return
            if self._stream_supported:
                reachable = self.status.consecutive_failures == 0
                connected = reachable and self._follow_stream()
                if self._stop.is_set():
                    return
                if self._stream_supported:
                    # A stream that was up and ended (a deploy, a proxy timeout)
                    # reconnects within half a second; a failing one backs off.
                    attempt = 1 if connected else attempt + 1
                    self._wait_polling(self.backoff.delay(attempt))
                    continue
            jitter = self.poll_interval * 0.1 * (2 * self.backoff.rng.random() - 1)
            if self._stop.wait(self.poll_interval + jitter):
                return

    def _wait_polling(self, delay: float) -> None:
        """Wait ``delay`` seconds before reconnecting, polling meanwhile if it is long."""
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            until_poll = self._last_fetch + self.poll_interval - time.monotonic()
            if until_poll <= 0:
                self.refresh()
                continue
            self._stop.wait(min(remaining, until_poll))

    def _follow_stream(self) -> bool:
        """Read the event stream until it ends; True when it was open at some point."""
        timeout = httpx.Timeout(10.0, connect=3.0, read=self.stream_read_timeout)
        headers = {**self._headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        connected = False
        try:
            with self._http.stream(
                "GET", self.url + STREAM_PATH, headers=headers, params=self._params, timeout=timeout
            ) as response:
                if response.status_code in (404, 405, 501):
                    log.info("phased: %s has no event stream; polling only", self.url)
                    self._stream_supported = False
                    return False
                if response.status_code != 200:
                    response.read()
                    error = f"HTTP {response.status_code}: {excerpt(response)}"
                    self._failed(f"GET {STREAM_PATH}: {error}")
                    return False
                connected = True
                self._response = response
                self.status.stream_connected = True
                self.status.stream_connects += 1
                for event in iter_events(response.iter_lines()):
                    if self._stop.is_set():
                        break
                    self._on_event(event)
        except (httpx.HTTPError, OSError) as exc:
            if not self._stop.is_set():
                self._failed(f"GET {STREAM_PATH}: {type(exc).__name__}: {exc}")
        finally:
            self._response = None
            self.status.stream_connected = False
        return connected

    def _on_event(self, event: ServerEvent | None) -> None:
        if event is None:  # a heartbeat: use it to poll now and then as a safety net
            if time.monotonic() - self._last_fetch > max(4 * self.poll_interval, 60.0):
                self.refresh()
            return
        if event.name not in ("flags", "message", "change", "update"):
            return
        try:
            data = json.loads(event.data) if event.data else {}
        except ValueError:
            data = {}
        if isinstance(data, dict) and "flagset" in data:
            try:
                flagset, stages = parse_payload(data, self.url + STREAM_PATH)
                self._apply(flagset, stages)
            except Exception as exc:
                self._failed(f"stream event: unusable payload: {exc}")
                self.refresh()
                return
            self.status.etag = data.get("etag") or self.status.etag
            self.status.source = "server"
            self.status.updates += 1
            self._ready.set()
            self._save_backup(data)
            return
        etag = data.get("etag") if isinstance(data, dict) else None
        if etag is None or etag != self.status.etag:
            self.refresh()

    def _abort_stream(self, *, shutdown: bool) -> None:
        """Unblock a thread reading the stream (``shutdown``) or just drop our descriptor."""
        response = self._response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = None
        with contextlib.suppress(Exception):
            sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with contextlib.suppress(OSError):
            if shutdown:
                sock.shutdown(socket.SHUT_RDWR)
            else:
                # In a forked child: closing our copy of the descriptor leaves the
                # parent's connection untouched (shutdown would cut it for both).
                sock.close()

    def _after_fork(self) -> None:
        running = self._thread is not None and not self._stop.is_set()
        self._abort_stream(shutdown=False)
        if self._stop.is_set():  # a closed client: nothing to restart
            return
        # Never touch the parent's client (its pool lock may be held by a thread
        # that does not exist here); build this process's own.
        self._http = resolve_http(self._http_option, after_fork=True)
        self._owns_http = True
        ready = self._ready.is_set()
        self._init_threading()
        if ready:
            self._ready.set()
            self._attempted.set()
        self.status.stream_connected = False
        if running:
            self.start()


_SYNCS: weakref.WeakSet[RemoteSync] = weakref.WeakSet()


def _restart_in_child() -> None:
    for sync in list(_SYNCS):
        try:
            sync._after_fork()
        except Exception:  # a fork handler must not break the child
            log.exception("phased: could not restart flag sync after fork")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_in_child)


# -- payloads, events, backup files ---------------------------------------------


def parse_payload(payload: Any, where: str) -> tuple[FlagSet, dict[str, str]]:
    """The flag set and stages of a ``/sdk/flags`` body (or a bare flags document).

    Raises:
        SourceError: the document is not a valid flag set (field named).
        ValueError: the body is not a JSON object.
    """
    if not isinstance(payload, Mapping):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    document = payload.get("flagset", payload)
    if not isinstance(document, Mapping):
        raise ValueError("'flagset' is not an object")
    stages_raw = payload.get("stages") or {}
    stages = (
        {str(k): str(v) for k, v in stages_raw.items()} if isinstance(stages_raw, Mapping) else {}
    )
    return flagset_from_document(document, where), stages


def flagset_from_document(document: Mapping[str, Any], where: str) -> FlagSet:
    """Validate a flags-file document already parsed from JSON (as ``parse_flagset`` does)."""
    data = {k: v for k, v in document.items() if k != "version"}
    for section in ("flags", "segments"):
        entries = data.get(section)
        if isinstance(entries, Mapping):
            data[section] = {
                name: {"key": name, **(body or {})} if isinstance(body, Mapping | None) else body
                for name, body in entries.items()
            }
    return Document(data, {}, where).validate(FlagSet)


def default_backup_path(url: str, environment: str) -> Path:
    """``~/.cache/phased/flags-<environment>-<hash of url>.json`` (per user, never /tmp)."""
    digest = hashlib.sha256(f"{url}|{environment}".encode()).hexdigest()[:12]
    return Path.home() / ".cache" / "phased" / f"flags-{environment}-{digest}.json"


def server_token(url: str, token: str | None) -> str:
    """The token to follow ``url`` with (``token``, else PHASED_TOKEN).

    Raises:
        ConfigurationError: ``url`` is not an http(s) URL, or there is no token.
    """
    from urllib.parse import urlsplit

    from phased.settings import get_settings

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"url: {url!r} is not an http(s) URL; give the server's address, "
            "e.g. http://127.0.0.1:8700",
            field="url",
        )
    if token is None:
        token = get_settings().token
    if not token:
        raise ConfigurationError(
            "token: Client(url=...) needs an API token with role sdk; "
            "pass token=... or set PHASED_TOKEN (create one with `phased token create --role sdk`)",
            field="token",
        )
    return token
