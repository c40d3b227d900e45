"""``phased.Client``: evaluate flags in the application process.

Evaluation is in memory and never raises: an unknown flag, a broken file or
an unreachable store evaluates to the flag's safe default. Building a client
never raises either, whatever the source (a missing or broken flags file, a
store or server that cannot be reached, a corrupt backup, a missing token):
the failure is logged once on the ``phased.sdk`` logger, kept in
:attr:`Client.load_error`, and every flag serves its safe default until a
source answers. ``strict=True`` (for tests) raises instead, and also raises
on an unknown flag or a failing evaluation.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phased.core.evaluate import CompiledFlagSet, Evaluation
from phased.core.flagfile import parse_flagset
from phased.core.flags import FlagSet, Value
from phased.core.outcomes import Arm
from phased.errors import ConfigurationError, NotFoundError
from phased.sdk.tracker import OutcomeSink, Tracker, Tracking

log = logging.getLogger("phased.sdk")

if TYPE_CHECKING:
    from phased.sdk.compare import Comparisons
    from phased.sdk.http_sink import HttpSink
    from phased.sdk.local import StoreSync
    from phased.sdk.remote import BackupOption, RemoteSync
    from phased.sdk.store_sink import StoreSink
    from phased.sdk.transport import HttpOption


class Client:
    """Evaluates one environment's flags.

    Build it with :meth:`from_file` (a flags file), :meth:`local` (the
    embedded store) or, with a server, ``Client(url=..., token=...)``.
    """

    _store_sync: StoreSync | None = None
    """Set by :meth:`local`: the thread that follows the store."""
    load_error: str | None = None
    """Why the source could not be used when the client was built (None when it could)."""

    def __init__(
        self,
        flagset: FlagSet | None = None,
        *,
        environment: str = "dev",
        env: Mapping[str, str] | None = None,
        sink: OutcomeSink | None = None,
        flush_interval: float = 5.0,
        url: str | None = None,
        token: str | None = None,
        backup_path: BackupOption = None,
        poll_interval: float = 15.0,
        wait_ready: float = 1.0,
        http: HttpOption = None,
        strict: bool = False,
    ) -> None:
        self.environment = environment
        self.strict = strict
        self._env = os.environ if env is None else env
        failure: Exception | None = None
        if url is not None:
            try:
                from phased.sdk.remote import server_token

                token = server_token(url, token)
            except Exception as exc:  # no token: defaults, not a crash (unless strict)
                if strict:
                    raise
                failure, token = exc, None
            if sink is None and token is not None:  # outcomes go where the flags come from
                from phased.sdk.http_sink import HttpSink

                sink = self._owned_sink = HttpSink(url, token, environment, http=http)
        self.tracker = Tracker(environment, sink, flush_interval=flush_interval)
        self.stages: dict[str, str] = {}
        """The current rollout stage of each flag, so outcomes land in the right window."""
        self.compare_modes = {}
        self._install(flagset or FlagSet())
        if failure is not None:
            self._failed(f"server {url}", failure)
        if url is not None and token is not None:
            try:
                self._follow(
                    url,
                    token,
                    backup_path=backup_path,
                    poll_interval=poll_interval,
                    wait_ready=wait_ready,
                    http=http,
                )
            except Exception as exc:
                if strict:
                    self.close()
                    raise
                self._failed(f"server {url}", exc)

    def _failed(self, source: str, exc: BaseException) -> None:
        """Log a source failure once and keep serving safe defaults (or the backup)."""
        from phased.obs.redact import redact_text

        first = str(exc).splitlines()[0] if str(exc) else ""
        self.load_error = redact_text(f"{source}: {type(exc).__name__}: {first}")
        log.warning("phased: %s; flags serve their safe defaults", self.load_error)

    # -- construction --------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        environment: str = "dev",
        env: Mapping[str, str] | None = None,
        sink: OutcomeSink | None = None,
        strict: bool = False,
    ) -> Client:
        """Evaluate from a flags file (see ``docs/flags-file.md``).

        A missing, unreadable or malformed file is logged once (file, line and
        field named) and every flag serves its safe default.

        Raises:
            OSError: only with ``strict=True``: the file cannot be read.
            SourceError: only with ``strict=True``: the file is malformed.
        """
        try:
            flagset: FlagSet | None = parse_flagset(
                Path(path).read_text(encoding="utf-8"), str(path)
            )
            failure: Exception | None = None
        except Exception as exc:
            if strict:
                raise
            flagset, failure = None, exc
        client = cls(flagset, environment=environment, env=env, sink=sink, strict=strict)
        if failure is not None:
            client._failed(f"flags file {path}", failure)
        return client

    @classmethod
    def local(
        cls,
        *,
        database_url: str | None = None,
        environment: str = "dev",
        env: Mapping[str, str] | None = None,
        sink: OutcomeSink | None = None,
        poll_interval: float = 1.0,
        strict: bool = False,
    ) -> Client:
        """Evaluate from the embedded store, following its changes (``docs/store.md``).

        The flag set is loaded now and reloaded in a daemon thread whenever the
        store revision changes (checked every ``poll_interval`` seconds). An
        unreachable store or unusable settings never raise: the failure is
        logged once and the client keeps its last flag set (safe defaults at
        first). With ``strict=True`` they raise.
        """
        from phased.sdk.local import StoreSync
        from phased.sdk.store_sink import StoreSink, follow_stages
        from phased.settings import get_settings

        try:
            url = database_url or get_settings().database_url
            owned = StoreSink(database_url=url) if sink is None else None
        except Exception as exc:
            if strict:
                raise
            client = cls(environment=environment, env=env, sink=sink, strict=strict)
            client._failed("store settings", exc)
            return client
        client = cls(environment=environment, env=env, sink=sink or owned, strict=strict)
        client._store_sink = owned
        sync = StoreSync(url, environment, client.update, interval=poll_interval)
        if not sync.refresh():
            if strict:
                client.close()
                raise ConfigurationError(
                    f"database_url: cannot load flags from the store: {sync.last_error}",
                    field="database_url",
                )
            from phased.obs.redact import redact_text

            client.load_error = redact_text(f"store {url}: {sync.last_error}")
        if owned is not None:  # label outcomes with the stage in force (docs/rollouts.md)
            follow_stages(client, lambda: owned.store)
            from phased.sdk.compare_store import follow_compare

            follow_compare(client, lambda: owned.store)
        sync.start()
        client._store_sync = sync
        return client

    sync: RemoteSync | None = None
    """With ``url=``: the thread following the server (``client.sync.status`` says how)."""
    _owned_sink: HttpSink | None = None
    _store_sink: StoreSink | None = None

    def _follow(
        self,
        url: str,
        token: str,
        *,
        backup_path: BackupOption,
        poll_interval: float,
        wait_ready: float,
        http: HttpOption,
    ) -> None:
        from phased.sdk.remote import RemoteSync

        def apply(flagset: FlagSet, stages: dict[str, str]) -> None:
            self.stages = stages
            self.update(flagset)

        sync = self.sync = RemoteSync(
            url,
            token,
            self.environment,
            apply,
            http=http,
            backup_path=backup_path,
            poll_interval=poll_interval,
        )
        sync.load_backup()  # local and fast: something to evaluate at once
        if sync.status.backup_error is not None:
            if self.strict:
                raise ConfigurationError(sync.status.backup_error, field="backup_path")
            self.load_error = sync.status.backup_error  # logged once by load_backup
        sync.start()
        if wait_ready > 0:  # never longer: a down server must not hold up start-up
            sync.wait_attempted(wait_ready)
        if self.strict and sync.status.source != "server":
            raise ConfigurationError(
                f"url: no flag set from {url} within {wait_ready}s "
                f"({sync.status.last_error or 'no answer'})",
                field="url",
            )

    def update(self, flagset: FlagSet) -> None:
        """Swap in a new flag set atomically; evaluations in flight finish on the old one."""
        self._install(flagset)
        for callback in self._listeners:
            try:
                callback()
            except Exception:  # a listener's bug must not stop the sync thread
                continue

    _listeners: tuple[Callable[[], None], ...] = ()

    def on_update(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every flag-set swap; returns a function that unsubscribes."""
        self._listeners = (*self._listeners, callback)

        def unsubscribe() -> None:
            self._listeners = tuple(c for c in self._listeners if c is not callback)

        return unsubscribe

    def _install(self, flagset: FlagSet) -> None:
        compiled = CompiledFlagSet(flagset, self.environment, env=self._env, clock=time.time)
        # Two attribute stores; a reader sees either the old or the new set per call.
        self._compiled = compiled
        self._enabled = compiled.enabled

    @property
    def flagset(self) -> FlagSet:
        """The flag set this client evaluates."""
        return self._compiled.source

    # -- evaluation (hot path: no I/O, no lock) -------------------------------

    def is_enabled(self, flag: str, /, **context: Any) -> bool:
        """Whether ``flag`` is on for this context (False for an unknown flag)."""
        fn = self._enabled.get(flag)
        if fn is None:
            if self.strict:
                raise _unknown(flag)
            return False
        try:
            return fn(context)
        except Exception:  # evaluation must never raise into the application
            if self.strict:
                raise
            return False

    def variant(self, flag: str, /, **context: Any) -> str | None:
        """The variant served (``on``/``off`` for boolean flags), None for an unknown flag."""
        cf = self._compiled.get(flag)
        if cf is None:
            if self.strict:
                raise _unknown(flag)
            return None
        try:
            value: Value = cf.value(context)
        except Exception:
            if self.strict:
                raise
            value = cf.off
        if value is True:
            return "on"
        if value is False:
            return "off"
        return value

    def evaluate(self, flag: str, /, **context: Any) -> Evaluation:
        """Value, variant and a readable reason."""
        if self.strict and self._compiled.get(flag) is None:
            raise _unknown(flag)
        try:
            return self._compiled.evaluate(flag, context)
        except Exception as exc:
            if self.strict:
                raise
            cf = self._compiled.get(flag)
            off: Value = cf.off if cf is not None else False
            return Evaluation(
                off,
                "on" if off is True else "off" if off is False else off,
                f"error:{type(exc).__name__}",
            )

    # -- outcomes ----------------------------------------------------------------

    def track(self, flag: str, /, **context: Any) -> Tracking:
        """Evaluate ``flag`` and measure this one use of it.

        ``with client.track("awf_bundle", user="u-1") as t:`` — ``t.enabled``
        says which path to take; latency is measured; an exception inside the
        block marks an error and propagates; ``t.fallback()``, ``t.retry()``,
        ``t.cost(usd)``, ``t.error()`` and ``t.metric(name, value)`` add detail.
        """
        fn = self._enabled.get(flag)
        try:
            enabled = False if fn is None else fn(context)
        except Exception:
            enabled = False
        user = context.get("user") or context.get("session")
        # The unit the flag randomises (its stickiness key): the judge analyses by it.
        cf = self._compiled.get(flag)
        sticky = "user" if cf is None else cf.stickiness
        unit = user if sticky == "user" else context.get(sticky)
        return Tracking(
            self.tracker,
            flag,
            enabled,
            self.stages.get(flag, ""),
            None if user is None else str(user),
            unit,
        )

    def record(
        self,
        flag: str,
        /,
        *,
        arm: Arm | str,
        latency_ms: float | None = None,
        error: bool = False,
        fallback: bool = False,
        retries: int = 0,
        cost_usd: float = 0.0,
        user: str | None = None,
        metrics: Mapping[str, float] | None = None,
        unit: str | None = None,
    ) -> None:
        """Record an outcome measured elsewhere (``arm`` is ``candidate`` or ``control``).

        ``unit`` is the flag's stickiness key of the request (``user`` by default);
        with it the judge analyses by unit.
        """
        self.tracker.record(
            flag,
            Arm(arm),
            self.stages.get(flag, ""),
            latency_ms=latency_ms,
            error=error,
            fallback=fallback,
            retries=retries,
            cost_usd=cost_usd,
            user=user,
            metrics=metrics,
            unit=unit,
        )

    # -- old and new side by side (docs/migrations.md) ------------------------------

    compare_modes: dict[str, str]
    """flag → the compare mode of its stage in force (old, shadow, live, new)."""
    _comparisons: Comparisons | None = None

    @property
    def comparisons(self) -> Comparisons:
        """The compare engine (its ``sink`` receives mismatch samples)."""
        if self._comparisons is None:
            from phased.sdk.compare import Comparisons, HttpMismatchSink

            self._comparisons = Comparisons(self)
            if self._owned_sink is not None:  # a server: samples go where outcomes go
                owned = self._owned_sink
                self._comparisons.sink = HttpMismatchSink(owned.url, owned._headers)
        return self._comparisons

    def compare(
        self,
        flag: str,
        /,
        *,
        old: Callable[[], Any],
        new: Callable[[], Any],
        mode: str | None = None,
        ignore: Iterable[str] = (),
        compare: Callable[[Any, Any], bool] | None = None,
        timeout: float = 5.0,
        **context: Any,
    ) -> Any:
        """Run ``old`` and ``new`` side by side; return the serving path's result.

        The stage's mode (or ``mode=``) and the flag's evaluation decide which
        path serves; the other runs concurrently and is compared, and its
        exceptions and time-outs never reach the caller (``docs/migrations.md``).
        """
        return self.comparisons.run(
            flag, old=old, new=new, mode=mode, ignore=ignore, compare=compare,
            timeout=timeout, context=context,
        )  # fmt: skip

    async def compare_async(
        self,
        flag: str,
        /,
        *,
        old: Callable[[], Awaitable[Any]],
        new: Callable[[], Awaitable[Any]],
        mode: str | None = None,
        ignore: Iterable[str] = (),
        compare: Callable[[Any, Any], bool] | None = None,
        timeout: float = 5.0,
        **context: Any,
    ) -> Any:
        """The async form of :meth:`compare` (the compared path is a task)."""
        return await self.comparisons.run_async(
            flag, old=old, new=new, mode=mode, ignore=ignore, compare=compare,
            timeout=timeout, context=context,
        )  # fmt: skip

    def close(self) -> None:
        """Flush every outcome window and stop background threads."""
        if self.sync is not None:
            self.sync.stop()
        if self._store_sync is not None:
            self._store_sync.stop()
        self.tracker.close()
        if self._owned_sink is not None:
            self._owned_sink.close()
        if self._store_sink is not None:
            self._store_sink.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unknown(flag: str) -> NotFoundError:
    return NotFoundError(
        f"flag: {flag!r} is not in the flag set (strict=True raises; the default serves False)",
        field="flag",
    )
