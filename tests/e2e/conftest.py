"""A real server with a lived-in store, and a real browser (Debian's Chromium).

The store is built through the service layer and the real engine on a
virtual clock that ends a day before now: the examples' flags, two people
(alice, admin; pat, pm) with tokens, the AWF plan measured for four days (so
its gates have history to chart) and the UX agent plan waiting for a PM.
Then uvicorn serves it on 127.0.0.1 (a free port, wall clock, engine off so
nothing moves under the test's feet).

Chromium missing: the browser tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from phased.alerts.config import AlertsConfig, ChannelConfig, RetryConfig
from phased.alerts.worker import AlertWorker
from phased.core.flagfile import parse_flagset
from phased.core.outcomes import Aggregate, Arm, OutcomeKey, slot_of
from phased.engine.clock import VirtualClock
from phased.engine.loop import Engine
from phased.server import ServerSettings, create_app
from phased.service import apply as apply_service
from phased.service import approvals, golden_runs, members, outcomes, plan_rollouts, tokens
from phased.service import flags as flag_service
from phased.service import rollouts as percent_service
from phased.store.engine import Store, open_store
from phased.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ENVIRONMENTS = ("dev", "staging", "prod")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Seeded:
    """The secrets of the people in the seeded store."""

    admin: str
    pm: str
    viewer: str


def _traffic(store: Store, clock: VirtualClock, rng: random.Random, step: int) -> None:
    """Two hours of AWF traffic for the stage in force: both arms, healthy, a little noisy."""
    rollout = plan_rollouts.get_rollout(store, "awf_bundle")
    if rollout.state.stage_started_at is None or not rollout.active:
        return
    percent = {"canary-5": 5, "canary-25": 25, "canary-50": 50}.get(rollout.stage.name, 100)
    slot = slot_of(clock.now().timestamp())
    windows = []
    for arm, requests in ((Arm.CANDIDATE, 30 * percent), (Arm.CONTROL, 1500)):
        agg = Aggregate()
        drift = 1.0 + 0.25 * ((step % 7) / 7)  # a slow wobble so the chart shows something
        for i in range(requests):
            agg.record(
                latency_ms=rng.lognormvariate(5.3, 0.55) * drift,
                error=rng.random() < 0.01,
                fallback=rng.random() < 0.003,
                retries=1 if rng.random() < 0.01 else 0,
                user=f"u-{step}-{i}",
            )
        windows.append((OutcomeKey("awf_bundle", "prod", arm, rollout.stage.name, slot), agg))
    outcomes.ingest(store, f"seed-{uuid.uuid4().hex}", windows)


BAD_PLAN = """\
flag: unified_pipeline
title: Unified pipeline — prod canary
environment: prod
stages:
  - name: canary-5
    audience: 5
    min_duration: 1h
    gates:
      - {metric: error_rate, below: 0.02}
  - name: everyone
    audience: 100
rollback:
  - {metric: error_rate, above: 0.1, min_samples: 50, name: "error rate above 10 %"}
"""


HELD_PLAN = """\
flag: checkout_redesign
title: Checkout redesign — held for a PM
environment: prod
stages:
  - name: canary-10
    audience: 10
    min_duration: 4h
    min_samples: 100
    gates:
      - {metric: error_rate, below: 0.02}
      - {metric: latency_p95_ms, below: 800}
  - name: half
    audience: 50
    min_duration: 1d
    approval: {roles: [pm], note: PM sign-off before half of the users}
    gates:
      - {metric: error_rate, below: 0.02}
rollback:
  - {metric: error_rate, compare: control}
  - {metric: latency_p95_ms, compare: control, max_increase_pct: 20}
"""


def _simple_traffic(
    store: Store, clock: VirtualClock, rng: random.Random, flag: str, error_rate: float
) -> None:
    """A little traffic for ``flag``'s stage in force: 200 candidate and 400 control requests."""
    rollout = plan_rollouts.get_rollout(store, flag)
    if rollout.state.stage_started_at is None or not rollout.active:
        return
    slot = slot_of(clock.now().timestamp())
    windows = []
    for arm, requests, errors in (
        (Arm.CANDIDATE, 200, error_rate),
        (Arm.CONTROL, 400, 0.01),
    ):
        agg = Aggregate()
        for i in range(requests):
            agg.record(
                latency_ms=rng.lognormvariate(5.0, 0.3),
                error=rng.random() < errors,
                user=f"{flag}-{slot}-{arm.value}-{i}",
            )
        windows.append((OutcomeKey(flag, "prod", arm, rollout.stage.name, slot), agg))
    outcomes.ingest(store, f"seed-{uuid.uuid4().hex}", windows)


def _deliver(store: Store, *, fail: bool) -> None:
    """One pass of the real alert worker: to the log channel, or to a dead webhook."""
    channel = (
        ChannelConfig(kind="webhook", url=f"http://127.0.0.1:{free_port()}/hook", timeout_seconds=1)
        if fail
        else ChannelConfig(kind="log")
    )
    config = AlertsConfig(
        channels={"pager" if fail else "log": channel},
        retry=RetryConfig(max_attempts=1),
        dedup_window_seconds=0,
    )
    with httpx.Client(timeout=1) as http:
        AlertWorker(config, Outbox(store.engine), enabled=True, http=http).run_once()


def seed_store(url: str) -> Seeded:
    """Fill a fresh store as a team would have over the last days (see the module docs)."""
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=5))
    store = open_store(url, environments=ENVIRONMENTS, clock=clock)
    rng = random.Random(7)
    try:
        members.add_member(store, actor="alice", name="alice", roles=["admin"])
        members.add_member(store, actor="alice", name="pat", roles=["pm"])
        admin = tokens.create_token(store, actor="alice", name="alice", role="admin").secret
        pm = tokens.create_token(store, actor="alice", name="pat", role="pm").secret
        viewer = tokens.create_token(store, actor="alice", name="vic", role="viewer").secret
        flags_file = EXAMPLES / "flags.yaml"
        wanted = parse_flagset(flags_file.read_text(encoding="utf-8"), str(flags_file))
        apply_service.apply(store, actor="alice", wanted=wanted, source="examples/flags.yaml")
        flag_service.create_flag(
            store,
            actor="alice",
            key="one_page_checkout",
            description="One-page checkout (second attempt)",
        )
        flag_service.set_enabled(
            store, actor="alice", key="one_page_checkout", environment="prod", enabled=True
        )
        percent_service.set_rollout(
            store, actor="alice", key="one_page_checkout", environment="prod", percent=10
        )
        for name in ("awf-phase7.yaml", "ux-agent-canary.yaml"):
            path = EXAMPLES / "plans" / name
            plan_rollouts.apply_plan(
                store, actor="alice", text=path.read_text(encoding="utf-8"), path=f"plans/{name}"
            )
        # A rollout that completes (the PM signs off canary-50 up front) and one
        # whose candidate errors far too often (rolled back by its trigger).
        quick = EXAMPLES / "plans" / "quickstart.yaml"
        for key in ("new_checkout", "unified_pipeline"):
            flag_service.set_enabled(
                store, actor="alice", key=key, environment="prod", enabled=True
            )
        plan_rollouts.apply_plan(
            store,
            actor="alice",
            text=quick.read_text(encoding="utf-8"),
            path="plans/quickstart.yaml",
        )
        approvals.approve(store, actor="pat", flag="new_checkout", stage="canary-50")
        plan_rollouts.apply_plan(store, actor="alice", text=BAD_PLAN, path="plans/unified.yaml")
        flag_service.create_flag(
            store, actor="alice", key="checkout_redesign", description="Checkout redesign"
        )
        flag_service.set_enabled(
            store, actor="alice", key="checkout_redesign", environment="prod", enabled=True
        )
        awf = plan_rollouts.get_rollout(store, "awf_bundle")
        for item in awf.plan.stages[0].checklist:  # the first stage starts; later ones wait
            approvals.check(store, actor="pat", flag="awf_bundle", item=item)
        # The first stage also needs a passing golden run of its suite (seed 003).
        golden_runs.report(
            store,
            actor="ci",
            suite="awf-goldens",
            build="e2e",
            mode="test",
            passed=True,
            counts={"scenarios": 1, "turns": 3, "failed": 0},
            failures=[],
            flag="awf_bundle",
        )
        engine = Engine(store, clock=clock)
        for step in range(54):  # four and a half days, one pass every two hours
            clock.advance(timedelta(hours=2))
            _traffic(store, clock, rng, step)
            if step < 8:
                _simple_traffic(store, clock, rng, "new_checkout", 0.005)
            if step == 44:
                plan_rollouts.apply_plan(
                    store, actor="alice", text=HELD_PLAN, path="plans/checkout-redesign.yaml"
                )
            if step >= 44:
                _simple_traffic(store, clock, rng, "checkout_redesign", 0.008)
            if 30 <= step < 34:
                _simple_traffic(store, clock, rng, "unified_pipeline", 0.3)
            engine.run_once()
            if step == 20:
                _deliver(store, fail=False)
        _deliver(store, fail=True)
    finally:
        store.close()
    return Seeded(admin=admin, pm=pm, viewer=viewer)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Dashboard:
    """The running server under test."""

    url: str
    store: Store
    people: Seeded


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """uvicorn on 127.0.0.1 (free port) serving a freshly seeded SQLite store."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'phased.db'}"
    people = seed_store(url)
    store = open_store(url, environments=ENVIRONMENTS)
    settings = ServerSettings(
        database_url=url,
        environments=ENVIRONMENTS,
        revision_poll_seconds=0.05,
        engine=False,
        bootstrap=False,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield Dashboard(f"http://127.0.0.1:{port}", store, people)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (skips locally, fails under CI=true, if absent)."""
    reason = chromium_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the browser tests must run)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
