"""Alert delivery beside the server: on only with ENABLE_ALERTS and a channel, on its own thread."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from alerts.conftest import Receiver, Reply
from phased.alerts.model import Alert, Severity
from phased.alerts.queue import DeliveryStatus
from phased.errors import ConfigurationError
from phased.server.background import AlertDelivery, EngineHost, alert_worker_for
from phased.server.config import ServerSettings
from phased.store.engine import Store, open_store
from phased.store.outbox import Outbox, enqueue

if TYPE_CHECKING:
    from server.conftest import ServerFactory

ON = {"ENABLE_ALERTS": "true"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1."""
    server = Receiver()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'alerts.db'}") as store:
        yield store


def _channels(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        f"channels:\n  hook:\n    kind: webhook\n    url: {receiver.url('/hook')}\n"
        "retry: {base_delay_seconds: 0.05}\n",
        encoding="utf-8",
    )
    return path


def _wait(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


class TestAlertWorkerFor:
    """The server builds an alert worker only when ENABLE_ALERTS is on, and never without a channel."""

    def test_off_by_default_settles_alerts_as_skipped(
        self, local_store: Store, tmp_path: Path
    ) -> None:
        settings = ServerSettings(alerts_config=tmp_path / "missing.yaml")
        worker = alert_worker_for(settings, local_store, env={})
        with local_store.write() as conn:
            enqueue(conn, Alert(severity=Severity.CRITICAL, message="rolled back", flag="f"))
        worker.run_once()
        rows = Outbox(local_store.engine).list()
        assert [r.status for r in rows] == [DeliveryStatus.SKIPPED]

    def test_on_without_a_file_is_a_configuration_error(
        self, local_store: Store, tmp_path: Path
    ) -> None:
        settings = ServerSettings(alerts_config=tmp_path / "missing.yaml")
        with pytest.raises(ConfigurationError, match="ENABLE_ALERTS is on") as caught:
            alert_worker_for(settings, local_store, env=ON)
        assert "missing.yaml does not exist" in str(caught.value)
        assert caught.value.field == "alerts_config"

    def test_on_with_a_file_without_channels(self, local_store: Store, tmp_path: Path) -> None:
        path = tmp_path / "alerts.yaml"
        path.write_text("dedup_window_seconds: 60\n", encoding="utf-8")
        with pytest.raises(ConfigurationError, match="has no `channels:`"):
            alert_worker_for(ServerSettings(alerts_config=path), local_store, env=ON)

    def test_on_with_a_channel(
        self, local_store: Store, tmp_path: Path, receiver: Receiver
    ) -> None:
        settings = ServerSettings(alerts_config=_channels(tmp_path, receiver))
        worker = alert_worker_for(settings, local_store, env=ON)
        assert worker is not None
        assert list(worker.channels) == ["hook"]


class TestDeliveryInTheServer:
    """A running server delivers what decisions put in the outbox; failures never stop it."""

    def test_outbox_alert_reaches_the_webhook(
        self, start_server: ServerFactory, tmp_path: Path, receiver: Receiver
    ) -> None:
        config = _channels(tmp_path, receiver)

        def host(store: Store) -> EngineHost:
            worker = alert_worker_for(ServerSettings(alerts_config=config), store, env=ON)
            assert worker is not None
            return EngineHost(None, alerts=AlertDelivery(worker, poll_seconds=0.05))

        server = start_server(background=host)
        with server.store.write() as conn:
            enqueue(conn, Alert(severity=Severity.CRITICAL, message="checkout: rolled back"))
        _wait(lambda: receiver.accepted("/hook"))
        assert "rolled back" in str(receiver.accepted("/hook")[0].body)
        outbox = Outbox(server.store.engine)
        _wait(lambda: outbox.list()[0].status is DeliveryStatus.DELIVERED)

    def test_a_failing_channel_does_not_stop_the_server(
        self, start_server: ServerFactory, tmp_path: Path, receiver: Receiver
    ) -> None:
        receiver.default = Reply(status=500)
        config = _channels(tmp_path, receiver)

        def host(store: Store) -> EngineHost:
            worker = alert_worker_for(ServerSettings(alerts_config=config), store, env=ON)
            assert worker is not None
            return EngineHost(None, alerts=AlertDelivery(worker, poll_seconds=0.05))

        server = start_server(background=host)
        with server.store.write() as conn:
            enqueue(conn, Alert(severity=Severity.ERROR, message="checkout: paused"))
        _wait(lambda: len(receiver.to("/hook")) >= 2)  # retried
        assert server.client().get("/healthz").status_code == 200
        assert server.client().post("/api/v1/flags", json={"key": "still-serving"}).is_success


class TestServeRefusesAlertsWithoutAChannel:
    """`phased serve` with ENABLE_ALERTS on and no channel exits 1 with one clear line."""

    def test_exit_code_and_message(self, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "ENABLE_ALERTS": "true",
            "PHASED_ALERTS_CONFIG": str(tmp_path / "none.yaml"),
            "PHASED_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "PHASED_BOOTSTRAP": "false",
            "PHASED_ENV": "dev",
        }
        done = subprocess.run(
            [sys.executable, "-m", "phased.cli.main", "serve", "--port", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, done.stderr
        assert "ENABLE_ALERTS is on but no alert channel is configured" in lines[0]
