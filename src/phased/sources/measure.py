"""The engine's side of metric sources: ask every source a stage needs, record it, hand it in.

Before ``decide`` runs for a rollout, :meth:`SourceMeasurer.measure` sends
each external gate's and trigger's query (once per arm for a comparison with
control), times it, records query, answer and latency in ``source_queries``,
and returns :class:`~phased.core.measured.Measurement` values that ``decide``
judges without I/O. A failure of any kind is an inconclusive measurement with
a redacted message: the engine never raises over a source.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

import httpx

from phased.core.measured import (
    Measurement,
    measurement_key,
    prometheus_duration,
    render_query,
    stage_checks,
    window_seconds,
)
from phased.core.plans.check import Check
from phased.core.rollout_state import RolloutPhase
from phased.errors import PhasedError, SourceQueryError
from phased.obs.log import get_logger
from phased.obs.redact import redact_text
from phased.service import source_queries
from phased.service.rollout_records import Rollout
from phased.service.source_queries import QueryRecord
from phased.sources.base import MetricSource, SourceQuery
from phased.sources.config import SourcesConfig
from phased.sources.registry import build_source
from phased.store.engine import Store

log = get_logger("phased.sources")
ARMS = ("candidate", "control")


class SourceMeasurer:
    """Queries the configured sources for the engine.

    Args:
        config: the sources from sources.yaml.
        store: where queries are recorded (and what ``sdk`` sources read).
        http: the HTTP client (default: one of its own per rollout's queries, then closed).
        sources: ready-made sources by name (tests, custom providers); they win over ``config``.
    """

    def __init__(
        self,
        config: SourcesConfig,
        *,
        store: Store,
        http: httpx.Client | None = None,
        sources: Mapping[str, MetricSource] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.http = http
        self._given: dict[str, MetricSource] = dict(sources or {})
        self._sources: dict[str, MetricSource] = {}
        self._client: httpx.Client | None = None

    def source(self, name: str) -> MetricSource:
        """The source called ``name``; raises SourceQueryError when it is not configured."""
        found = self._given.get(name) or self._sources.get(name)
        if found is not None:
            return found
        cfg = self.config.sources.get(name)
        if cfg is None:
            known = ", ".join(sorted(self.config.names)) or "none"
            raise SourceQueryError(
                f"no metric source {name!r} is configured (configured: {known}); "
                "define it in sources.yaml",
                source=name,
            )
        try:
            built = build_source(name, cfg, http=self._http(), store=self.store)
        except PhasedError as exc:
            raise SourceQueryError(str(exc), source=name) from None
        self._sources[name] = built
        return built

    def measure(self, rollout: Rollout, now: datetime) -> dict[str, Measurement]:
        """Query every source the rollout's current stage needs; record and return the answers."""
        state = rollout.state
        if state.phase not in (RolloutPhase.RUNNING, RolloutPhase.PAUSED):
            return {}
        plan = rollout.plan
        index = min(state.stage, len(plan.stages) - 1)
        stage = plan.stages[index]
        env = plan.stage_environment(index)
        since = state.stage_started_at or now
        rows: list[QueryRecord] = []
        checks: dict[str, Check] = {}
        for check, _kind in stage_checks(plan, index):
            checks.setdefault(measurement_key(check), check)
        try:
            for key, check in checks.items():
                arms = ARMS if check.compare is not None else ARMS[:1]
                for arm in arms:
                    rows.append(
                        self._ask(rollout, check, key, arm, stage=stage.name, env=env, now=now)
                    )
        finally:
            self._end_pass()
        if not rows:
            return {}
        streaks = source_queries.save(self.store, rows, since)
        out: dict[str, Measurement] = {}
        for key in checks:
            mine = [r for r in rows if r.check_key == key]
            failed = [r for r in mine if not r.ok]
            by_arm = {r.arm: r for r in mine}
            out[key] = Measurement(
                source=mine[0].source,
                query=mine[0].query,
                ok=not failed,
                value=by_arm["candidate"].value,
                control_value=by_arm["control"].value if "control" in by_arm else None,
                latency_ms=sum(r.latency_ms for r in mine),
                message="; ".join(
                    r.message if len(mine) == 1 else f"{r.arm}: {r.message}" for r in failed
                ),
                streak=streaks.get(key, 0) if failed else 0,
            )
        return out

    def _ask(
        self,
        rollout: Rollout,
        check: Check,
        key: str,
        arm: str,
        *,
        stage: str,
        env: str,
        now: datetime,
    ) -> QueryRecord:
        name = check.source or ""
        window = window_seconds(check)
        cfg = self.config.sources.get(name)
        arm_value = (cfg.arms.get(arm, arm) if cfg is not None else arm) or arm
        variables = {
            "flag": rollout.flag,
            "stage": stage,
            "arm": arm_value,
            "interval": prometheus_duration(window),
            "environment": env,
        }
        text = render_query(check.query or "", variables)
        request = SourceQuery(
            query=text,
            now=now,
            window_seconds=window,
            flag=rollout.flag,
            stage=stage,
            environment=env,
            arm=arm,
            jsonpath=check.jsonpath,
            variables=variables,
        )
        started = time.perf_counter()
        value: float | None = None
        message = ""
        try:
            value = float(self.source(name).query(request))
        except SourceQueryError as exc:
            message = redact_text(exc.message)
        except Exception as exc:  # a provider's bug is an inconclusive check, not a dead engine
            message = redact_text(f"{type(exc).__name__}: {exc}")
        latency = (time.perf_counter() - started) * 1000.0
        if message:
            log.warning(
                "source_query_inconclusive",
                flag=rollout.flag,
                source=name,
                arm=arm,
                latency_ms=round(latency, 1),
                error=message,
            )
        return QueryRecord(
            rollout_id=rollout.id,
            at=now,
            stage=stage,
            check_key=key,
            source=name,
            arm=arm,
            query=redact_text(text),
            ok=not message,
            value=value,
            latency_ms=latency,
            message=message,
        )

    def _http(self) -> httpx.Client:
        if self.http is not None:
            return self.http
        if self._client is None:
            self._client = httpx.Client()
        return self._client

    def _end_pass(self) -> None:
        # A client of our own lives for one rollout's queries: nothing is left open between passes.
        self._sources.clear()
        if self._client is not None:
            self._client.close()
            self._client = None
