"""The durable outbox on SQLite and PostgreSQL: same-transaction enqueue, safe claims,
crash and restart delivering every alert exactly once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from phased.alerts import Alert, AlertWorker, DeliveryStatus, Severity, parse_alerts_config
from phased.store import Store, open_store, upgrade
from phased.store.engine import MIGRATIONS, create_store_engine
from phased.store.outbox import Outbox, enqueue
from phased.store.tables import metadata
from phased.store.tables_alerts import alert_outbox

from .conftest import FakeClock, Receiver, Reply

CRIT = Alert(severity=Severity.CRITICAL, message="rollback of checkout", flag="checkout")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url, environments=("dev", "prod"))
    yield opened
    opened.close()


def worker_for(
    store: Store,
    receiver: Receiver,
    http: httpx.Client,
    clock: FakeClock | None = None,
    **kw: object,
) -> AlertWorker:
    config = parse_alerts_config(
        {
            "channels": {
                "ops": {
                    "kind": "webhook",
                    "url": receiver.url("/ops"),
                    "timeout_seconds": 0.3,
                    "rate_per_minute": 6000,
                    "burst": 100,
                }
            },
            "dedup_window_seconds": 0,
            "retry": {"max_attempts": 2, "base_delay_seconds": 1},
        }
    )
    return AlertWorker(
        config,
        Outbox(store.engine),
        enabled=True,
        http=http,
        clock=clock or (lambda: datetime.now(UTC)),
        **kw,  # type: ignore[arg-type]
    )


def numbered(i: int) -> Alert:
    return CRIT.model_copy(update={"message": f"alert {i}", "trace_id": f"t{i}"})


class TestEnqueue:
    """An alert exists exactly when the transaction that decided it commits."""

    def test_committed(self, store: Store) -> None:
        with store.write() as conn:
            alert_id = enqueue(conn, CRIT, now=datetime(2025, 10, 16, tzinfo=UTC))
        (row,) = Outbox(store.engine).list()
        assert row.id == alert_id
        assert row.status is DeliveryStatus.PENDING
        assert row.alert.message == CRIT.message
        assert row.alert.created_at == datetime(2025, 10, 16, tzinfo=UTC)

    def test_rolled_back(self, store: Store) -> None:
        def decide() -> None:
            with store.write() as conn:
                enqueue(conn, CRIT)
                raise RuntimeError("the decision failed")

        with pytest.raises(RuntimeError):
            decide()
        assert Outbox(store.engine).list() == []

    def test_session(self, store: Store) -> None:
        with Session(store.engine) as session, session.begin():
            enqueue(session, CRIT)
        assert len(Outbox(store.engine).list()) == 1


class TestClaims:
    """A claimed alert belongs to one worker until its lease ends."""

    def test_exclusive_until_lease_ends(self, store: Store) -> None:
        outbox = Outbox(store.engine)
        outbox.put(CRIT, now=datetime(2025, 1, 1, tzinfo=UTC))
        now = datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)
        assert len(outbox.claim("a", now=now, limit=10, lease_seconds=60)) == 1
        assert outbox.claim("b", now=now, limit=10, lease_seconds=60) == []
        later = now + timedelta(seconds=61)
        (taken,) = outbox.claim("b", now=later, limit=10, lease_seconds=60)
        assert taken.claimed_by == "b"
        settled = {
            "status": DeliveryStatus.DELIVERED,
            "attempts": 0,
            "channels_done": ("ops",),
            "next_attempt_at": later,
            "last_error": None,
            "now": later,
        }
        assert not outbox.settle(taken.id, worker="a", **settled)  # type: ignore[arg-type]
        assert outbox.settle(taken.id, worker="b", **settled)  # type: ignore[arg-type]
        assert outbox.counts()["delivered"] == 1

    def test_two_workers_never_deliver_one_alert_twice(
        self, store: Store, receiver: Receiver, http: httpx.Client
    ) -> None:
        with store.write() as conn:
            for i in range(40):
                enqueue(conn, numbered(i))
        workers = [worker_for(store, receiver, http, name=f"w{n}") for n in range(3)]
        for worker in workers:
            worker.config = worker.config.model_copy(update={"batch_size": 5})
        threads = [threading.Thread(target=w.drain) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        messages = sorted(p.body["message"] for p in receiver.accepted("/ops"))
        assert messages == sorted(f"alert {i}" for i in range(40))
        assert Outbox(store.engine).counts()["delivered"] == 40


CRASHING_WORKER = """
import sys
from phased.alerts import AlertWorker, parse_alerts_config
from phased.store.outbox import Outbox
from phased.store import open_store

store = open_store(sys.argv[1], environments=("dev", "prod"))
config = parse_alerts_config({
    "channels": {"ops": {"kind": "webhook", "url": sys.argv[2], "timeout_seconds": 60}},
    "dedup_window_seconds": 0,
})
worker = AlertWorker(config, Outbox(store.engine), enabled=True, name="doomed")
print("started", flush=True)
worker.run_once()
"""


class TestCrashAndRestart:
    """After a crash, undelivered alerts are delivered on restart — each exactly once."""

    def test_killed_mid_batch(
        self, store: Store, receiver: Receiver, http: httpx.Client, tmp_path: Path
    ) -> None:
        with store.write() as conn:
            for i in range(5):
                enqueue(conn, numbered(i))
        receiver.script("/ops", Reply(204), Reply(204), Reply(hang=True))
        script = tmp_path / "worker.py"
        script.write_text(textwrap.dedent(CRASHING_WORKER))
        proc = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(store.engine.url.render_as_string(False)),
                receiver.url("/ops"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while len(receiver.to("/ops")) < 3:  # two delivered, the third is hanging
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the worker never reached the third alert"
                time.sleep(0.02)
            proc.kill()  # SIGKILL: no cleanup, claims stay in the table
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        outbox = Outbox(store.engine)
        assert outbox.counts()["delivered"] == 2
        receiver.release.set()

        restarted = worker_for(store, receiver, http, name="restarted")
        assert restarted.drain().handled == 0  # the dead worker's lease still holds
        # The claim was renewed when the hanging post started, for as long as that post
        # could take (3 x the 60 s timeout + 5 s): only after that may another worker post.
        restarted.clock = lambda: datetime.now(UTC) + timedelta(seconds=300)
        report = restarted.drain()
        assert len(report.delivered) == 3
        accepted = [p.body["message"] for p in receiver.accepted("/ops")]
        assert sorted(accepted) == [f"alert {i}" for i in range(5)]  # each exactly once
        assert outbox.counts()["delivered"] == 5
        assert restarted.drain().handled == 0

    def test_never_started(self, store: Store, receiver: Receiver, http: httpx.Client) -> None:
        with store.write() as conn:
            ids = [enqueue(conn, numbered(i)) for i in range(3)]
        store.close()  # the process "dies" before any worker ran
        reopened = open_store(store.engine.url.render_as_string(False))
        try:
            worker = worker_for(reopened, receiver, http)
            assert sorted(worker.drain().delivered) == ids
            assert worker.drain().handled == 0
        finally:
            reopened.close()
        assert len(receiver.accepted("/ops")) == 3


class TestFailedVisible:
    """An alert that exhausts its retries stays in the table as failed."""

    def test_failed(self, store: Store, receiver: Receiver, http: httpx.Client) -> None:
        receiver.default = Reply(500)
        clock = FakeClock(datetime.now(UTC))
        worker = worker_for(store, receiver, http, clock)
        alert_id = worker.submit(CRIT)
        worker.run_once()
        clock.advance(1)
        assert worker.run_once().failed == [alert_id]
        (failed,) = Outbox(store.engine).list(status=DeliveryStatus.FAILED)
        assert failed.attempts == 2
        assert "answered 500" in (failed.last_error or "")


class TestMigration:
    """Migration 0002 creates exactly the table the code declares, and goes back down."""

    def test_matches_metadata(self, store: Store) -> None:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, metadata) if "alert_outbox" in repr(d)]
        assert diff == []

    def test_up_and_down(self, database_url: str) -> None:
        engine = create_store_engine(database_url)
        try:
            upgrade(engine, "0002")
            assert "alert_outbox" in inspect(engine).get_table_names()
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            with engine.connect() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "0001")
                conn.commit()
            assert "alert_outbox" not in inspect(engine).get_table_names()
            upgrade(engine, "0002")
            with engine.connect() as conn:
                assert conn.execute(select(alert_outbox.c.id)).all() == []
        finally:
            engine.dispose()
