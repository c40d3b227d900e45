"""``client.compare``: run the old and the new path side by side (GitHub's Scientist as model).

The stage's :class:`~phased.core.compare.CompareMode` and the flag's
evaluation decide which path serves the caller and which one only runs to be
compared (:func:`~phased.core.compare.plan_of`). The serving path runs in the
caller's thread, exactly as without phased: its result is returned and its
exception propagates. The compared path runs at the same time on a small pool
of daemon threads (or, in ``compare_async``, as a task); its exceptions and
time-outs never reach the caller, who never waits for it. A compared path
still running past ``timeout`` is recorded as a time-out error; when the pool
is full, the comparison is skipped rather than queued.

Both paths' latency and errors are recorded as outcomes (new path: the
``candidate`` arm, old path: ``control``); each finished comparison adds the
custom value ``mismatch`` (1 or 0) to the candidate record, which the
``mismatch_rate`` and ``comparisons`` metrics read. Mismatches are also sent,
redacted and bounded, to a :class:`MismatchSink` for ``phased compare
mismatches``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from phased.core.compare import (
    Comparator,
    CompareMode,
    make_comparator,
    mismatch_diff,
    plan_of,
)
from phased.core.outcomes import MISMATCH_METRIC, Arm
from phased.obs.redact import redact_secrets

if TYPE_CHECKING:
    from phased.sdk.client import Client

log = logging.getLogger("phased.compare")

DEFAULT_TIMEOUT = 5.0
SAMPLES_PER_FLAG = 100
"""Mismatch samples one process sends per flag (the store keeps its own bound)."""


class MismatchSink(Protocol):
    """Where mismatch samples go (the store, the server)."""

    def add(self, sample: dict[str, Any]) -> None: ...


class MemoryMismatchSink:
    """Keeps samples in a list (tests, and processes with nowhere to send them)."""

    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []

    def add(self, sample: dict[str, Any]) -> None:
        """Keep one sample."""
        self.samples.append(sample)


@dataclass(slots=True)
class Observation:
    """What one path did."""

    path: str
    value: Any = None
    error: BaseException | None = None
    latency_ms: float = 0.0
    timed_out: bool = False


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return repr(value)


def _shown(obs: Observation) -> Any:
    if obs.timed_out:
        return {"error": "timeout"}
    if obs.error is not None:
        return {"error": f"{type(obs.error).__name__}: {obs.error}"}
    return _json_safe(obs.value)


@dataclass(slots=True)
class Experiment:
    """One call: both observations meet here; the second to arrive finishes it."""

    flag: str
    mode: CompareMode
    serving: str
    stage: str
    user: str | None
    context: dict[str, Any]
    comparator: Comparator
    ignore: tuple[str, ...]
    deadline: float
    timeout: float
    observations: dict[str, Observation] = field(default_factory=dict)
    done: bool = False


class Comparisons:
    """The compare engine of one client: worker threads, in-flight experiments, samples."""

    def __init__(
        self,
        client: Client,
        *,
        sink: MismatchSink | None = None,
        workers: int = 4,
        max_in_flight: int = 64,
    ) -> None:
        self.client = client
        self.sink: MismatchSink = sink if sink is not None else MemoryMismatchSink()
        self.workers = workers
        self.max_in_flight = max_in_flight
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=max_in_flight)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._in_flight: list[Experiment] = []
        self._sent: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.skipped = 0
        self.comparator_errors = 0
        self.deprecations: dict[str, str] = {}
        """flag → the deprecation phase of its latest rollout (``phased.migrate.deprecation``)."""

    # -- plumbing ----------------------------------------------------------------

    def _start_workers(self) -> None:
        with self._lock:
            while len(self._threads) < self.workers:
                t = threading.Thread(target=self._work, name="phased-compare", daemon=True)
                t.start()
                self._threads.append(t)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # a bug here must not kill the worker
                log.exception("compare worker failed")

    def _sweep(self, now: float) -> None:
        """Finish experiments whose compared path is past its deadline (recorded as time-outs)."""
        expired: list[Experiment] = []
        with self._lock:
            for exp in self._in_flight:
                if not exp.done and now > exp.deadline and len(exp.observations) == 1:
                    expired.append(exp)
        for exp in expired:
            compared = "new" if exp.serving == "old" else "old"
            self._observe(exp, Observation(compared, timed_out=True, latency_ms=exp.timeout * 1e3))

    def mode_of(self, flag: str, mode: CompareMode | str | None) -> CompareMode:
        """The explicit mode, else the stage's (``client.compare_modes``), else ``live``."""
        if mode is not None:
            return CompareMode(mode)
        known = self.client.compare_modes.get(flag)
        return CompareMode(known) if known else CompareMode.LIVE

    # -- recording ---------------------------------------------------------------

    def _record(self, exp: Experiment, obs: Observation, metrics: dict[str, float] | None) -> None:
        self.client.record(
            exp.flag,
            arm=Arm.CANDIDATE if obs.path == "new" else Arm.CONTROL,
            latency_ms=obs.latency_ms,
            error=obs.error is not None or obs.timed_out,
            user=exp.user,
            metrics=metrics,
        )

    def _observe(self, exp: Experiment, obs: Observation) -> None:
        with self._lock:
            if exp.done or obs.path in exp.observations:
                return
            exp.observations[obs.path] = obs
            if len(exp.observations) < 2:
                return
            exp.done = True
            if exp in self._in_flight:
                self._in_flight.remove(exp)
        self._finish(exp)

    def _finish(self, exp: Experiment) -> None:
        old, new = exp.observations["old"], exp.observations["new"]
        if old.timed_out or new.timed_out:
            self._record(exp, old, None)
            self._record(exp, new, None)
            return
        diff: list[str] = []
        try:
            if old.error is not None or new.error is not None:
                same = (
                    old.error is not None
                    and new.error is not None
                    and type(old.error) is type(new.error)
                    and str(old.error) == str(new.error)
                )
            else:
                same = bool(exp.comparator(old.value, new.value))
        except Exception as exc:
            self.comparator_errors += 1
            if self.comparator_errors == 1:
                log.error(
                    "compare %s: the comparison function raised %s: %s; counted as a mismatch",
                    exp.flag, type(exc).__name__, exc,
                )  # fmt: skip
            same = False
            diff = [f"the comparison function raised {type(exc).__name__}: {exc}"]
        self._record(exp, old, None)
        self._record(exp, new, {MISMATCH_METRIC: 0.0 if same else 1.0})
        if not same:
            self._sample(exp, old, new, diff)

    def _sample(self, exp: Experiment, old: Observation, new: Observation, diff: list[str]) -> None:
        with self._lock:
            sent = self._sent.get(exp.flag, 0)
            if sent >= SAMPLES_PER_FLAG:
                return
            self._sent[exp.flag] = sent + 1
        shown = redact_secrets(
            {"context": _json_safe(exp.context), "old": _shown(old), "new": _shown(new)}
        )
        # The diff is taken after redaction, so a secret cannot leak through it.
        lines = diff or mismatch_diff(shown["old"], shown["new"], exp.ignore) or ["(differs)"]
        sample = {
            "flag": exp.flag,
            "environment": self.client.environment,
            "stage": exp.stage,
            "mode": exp.mode.value,
            **shown,
            "diff": lines,
        }
        try:
            self.sink.add(sample)
        except Exception:  # the sink's outage must not reach the caller either
            log.warning("compare %s: could not keep a mismatch sample", exp.flag, exc_info=True)

    # -- the calls ---------------------------------------------------------------

    def _experiment(
        self,
        flag: str,
        mode: CompareMode | str | None,
        context: dict[str, Any],
        *,
        ignore: Iterable[str],
        compare: Comparator | None,
        timeout: float,
    ) -> tuple[Experiment, str | None]:
        enabled = self.client.is_enabled(flag, **context)
        chosen = self.mode_of(flag, mode)
        serving, compared = plan_of(chosen, enabled)
        user = context.get("user") or context.get("session")
        rules = tuple(ignore)
        exp = Experiment(
            flag=flag,
            mode=chosen,
            serving=serving,
            stage=self.client.stages.get(flag, ""),
            user=None if user is None else str(user),
            context=dict(context),
            comparator=make_comparator(rules, compare),
            ignore=rules,
            deadline=time.monotonic() + timeout,
            timeout=timeout,
        )
        return exp, compared

    def run(
        self,
        flag: str,
        *,
        old: Callable[[], Any],
        new: Callable[[], Any],
        mode: CompareMode | str | None = None,
        ignore: Iterable[str] = (),
        compare: Comparator | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        context: dict[str, Any],
    ) -> Any:
        """Serve one path, compare the other; see the module docs."""
        now = time.monotonic()
        if self._in_flight:
            self._sweep(now)
        exp, compared = self._experiment(
            flag, mode, context, ignore=ignore, compare=compare, timeout=timeout
        )
        paths = {"old": old, "new": new}
        if compared is not None:
            self._start_workers()
            fn = paths[compared]

            def job(path: str = compared, fn: Callable[[], Any] = fn) -> None:
                if exp.done:
                    return
                started = time.perf_counter()
                obs = Observation(path)
                try:
                    obs.value = fn()
                except Exception as exc:
                    obs.error = exc
                obs.latency_ms = (time.perf_counter() - started) * 1000
                if time.monotonic() > exp.deadline:
                    obs = Observation(path, timed_out=True, latency_ms=obs.latency_ms)
                self._observe(exp, obs)

            try:
                self._jobs.put_nowait(job)
                with self._lock:
                    self._in_flight.append(exp)
            except queue.Full:
                self.skipped += 1
                compared = None
        started = time.perf_counter()
        obs = Observation(exp.serving)
        try:
            obs.value = paths[exp.serving]()
        except BaseException as exc:
            obs.error = exc
            obs.latency_ms = (time.perf_counter() - started) * 1000
            self._served(exp, obs, compared)
            raise
        obs.latency_ms = (time.perf_counter() - started) * 1000
        self._served(exp, obs, compared)
        return obs.value

    def _served(self, exp: Experiment, obs: Observation, compared: str | None) -> None:
        if compared is None:
            exp.done = True
            self._record(exp, obs, None)
        else:
            self._observe(exp, obs)

    async def run_async(
        self,
        flag: str,
        *,
        old: Callable[[], Awaitable[Any]],
        new: Callable[[], Awaitable[Any]],
        mode: CompareMode | str | None = None,
        ignore: Iterable[str] = (),
        compare: Comparator | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        context: dict[str, Any],
    ) -> Any:
        """The async form: the compared path is a task bounded by ``timeout``."""
        exp, compared = self._experiment(
            flag, mode, context, ignore=ignore, compare=compare, timeout=timeout
        )
        paths = {"old": old, "new": new}
        if compared is not None:
            path, fn = compared, paths[compared]

            async def shadow() -> None:
                started = time.perf_counter()
                obs = Observation(path)
                try:
                    obs.value = await asyncio.wait_for(fn(), timeout)
                except TimeoutError:
                    obs.timed_out = True
                except Exception as exc:
                    obs.error = exc
                obs.latency_ms = (time.perf_counter() - started) * 1000
                self._observe(exp, obs)

            task = asyncio.get_running_loop().create_task(shadow())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        started = time.perf_counter()
        obs = Observation(exp.serving)
        try:
            obs.value = await paths[exp.serving]()
        except BaseException as exc:
            obs.error = exc
            obs.latency_ms = (time.perf_counter() - started) * 1000
            self._served(exp, obs, compared)
            raise
        obs.latency_ms = (time.perf_counter() - started) * 1000
        self._served(exp, obs, compared)
        return obs.value

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until no comparison is in flight (tests, shutdown); False if some still are."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._sweep(time.monotonic())
            with self._lock:
                if not self._in_flight and self._jobs.empty():
                    return True
            time.sleep(0.005)
        return False


class HttpMismatchSink:
    """Posts samples to ``POST /api/v1/compare/mismatches`` from its own daemon thread.

    ``add`` never blocks (an async caller's event loop runs it): samples wait
    in a bounded queue; when it is full, or the server refuses, they are
    dropped (the mismatch itself is counted in the outcomes all the same).
    """

    def __init__(self, url: str, headers: Mapping[str, str], *, max_queue: int = 100) -> None:
        self.url = url.rstrip("/") + "/api/v1/compare/mismatches"
        self.headers = dict(headers)
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.sent = 0

    def add(self, sample: dict[str, Any]) -> None:
        """Queue one sample."""
        try:
            self._queue.put_nowait(sample)
        except queue.Full:
            self.dropped += 1
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._post_all, name="phased-mismatch", daemon=True
            )
            self._thread.start()

    def _post_all(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as http:
            while True:
                sample = self._queue.get()
                try:
                    http.post(self.url, json=sample, headers=self.headers).raise_for_status()
                    self.sent += 1
                except httpx.HTTPError:
                    self.dropped += 1
