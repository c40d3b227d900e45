"""The alerts API against a real server: the outbox, the stored channel config, a test send.

Webhooks go to a real HTTP receiver on 127.0.0.1; the server is uvicorn on a
free port (``tests/server/conftest.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from alerts.conftest import Receiver, Reply
from phased.alerts.config import parse_alerts_config
from phased.alerts.model import Alert, Severity
from phased.alerts.queue import DeliveryStatus
from phased.alerts.stored import read_stored
from phased.alerts.worker import AlertWorker
from phased.server.background import AlertDelivery, EngineHost, alert_worker_for
from phased.server.config import ServerSettings
from phased.service import audit
from phased.store.engine import Store
from phased.store.outbox import Outbox, enqueue
from server.ui.test_pages import Browser

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

ON = {"ENABLE_ALERTS": "true"}
SECRET_PATH = "/hooks/T0SECRET/B0SECRET/s3cr3tv4lue"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1."""
    server = Receiver()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


def webhook(url: str, **extra: Any) -> dict[str, Any]:
    """A config document with one generic webhook channel called ``hook``."""
    return {
        "channels": {"hook": {"kind": "webhook", "url": url, "timeout_seconds": 2, **extra}},
        "retry": {"max_attempts": 1},
    }


def put_config(server: RunningServer, document: dict[str, Any], version: int) -> dict[str, Any]:
    response = server.client().put(
        "/api/v1/alerts/config", json={"version": version, "config": document}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def enqueue_two(store: Store) -> None:
    with store.write() as conn:
        enqueue(conn, Alert(severity=Severity.CRITICAL, message="checkout rolled back", flag="co"))
        enqueue(conn, Alert(severity=Severity.WARNING, message="p95 creeping up"))


class TestOutbox:
    """`GET /alerts` lists the outbox newest first with each alert's delivery state."""

    def test_list_and_get(self, server: RunningServer) -> None:
        enqueue_two(server.store)
        viewer = server.client(server.token("viewer"))
        listed = viewer.get("/api/v1/alerts").json()
        assert [a["alert"]["message"] for a in listed] == [
            "p95 creeping up",
            "checkout rolled back",
        ]
        first = listed[1]
        assert (first["status"], first["attempts"], first["channels"]) == ("pending", 0, [])
        assert first["alert"]["severity"] == "critical"
        one = viewer.get(f"/api/v1/alerts/{first['id']}")
        assert one.status_code == 200
        assert one.json() == first
        assert len(viewer.get("/api/v1/alerts", params={"limit": 1}).json()) == 1

    def test_failed_only_with_channel_results(
        self, server: RunningServer, receiver: Receiver
    ) -> None:
        receiver.default = Reply(status=500)
        document = webhook(receiver.url(SECRET_PATH))
        put_config(server, document, 0)
        enqueue_two(server.store)
        config = parse_alerts_config(document)
        AlertWorker(config, Outbox(server.store.engine), enabled=True).drain()
        failed = server.client().get("/api/v1/alerts", params={"status": "failed"}).json()
        assert len(failed) == 2
        assert failed[0]["attempts"] == 1
        assert failed[0]["channels"][0]["channel"] == "hook"
        assert failed[0]["channels"][0]["status"] == "failed"
        assert "answered 500" in failed[0]["channels"][0]["error"]
        text = json.dumps(failed)
        assert "s3cr3tv4lue" not in text
        assert "***4lue" in failed[0]["last_error"]
        assert server.client().get("/api/v1/alerts", params={"status": "pending"}).json() == []

    def test_secrets_in_alert_texts_are_masked(self, server: RunningServer) -> None:
        discord = "https://discord.com/api/webhooks/123456/abcdefghijklmnopqrstuvwxyz"
        with server.store.write() as conn:
            enqueue(
                conn,
                Alert(
                    severity=Severity.ERROR,
                    message=f"could not post to {discord}",
                    links={"api_token": "phd_0123456789abcdef"},
                ),
            )
        text = server.client().get("/api/v1/alerts").text
        assert "abcdefghijklmnopqrstuvwxyz" not in text
        assert "0123456789abcdef" not in text

    def test_dashboard_masks_them_too(self, server: RunningServer, receiver: Receiver) -> None:
        receiver.default = Reply(status=500)
        document = webhook(receiver.url(SECRET_PATH))
        put_config(server, document, 0)
        enqueue_two(server.store)
        AlertWorker(
            parse_alerts_config(document), Outbox(server.store.engine), enabled=True
        ).drain()
        browser = Browser(server.url)
        try:
            browser.login(server.admin_secret, "/ui/alerts")
            page = browser.http.get("/ui/alerts", params={"status": "failed"})
        finally:
            browser.http.close()
        assert page.status_code == 200
        assert "answered 500" in page.text
        assert "s3cr3tv4lue" not in page.text

    def test_missing_and_bad_input(self, server: RunningServer) -> None:
        client = server.client()
        missing = client.get("/api/v1/alerts/999")
        assert missing.status_code == 404
        assert missing.json()["error"]["field"] == "id"
        assert client.get("/api/v1/alerts", params={"status": "lost"}).status_code == 422
        assert client.get("/api/v1/alerts", params={"limit": 0}).status_code == 422

    def test_roles(self, server: RunningServer) -> None:
        assert server.client(anonymous=True).get("/api/v1/alerts").status_code == 401
        sdk = server.client(server.token("sdk", environment="dev"))
        assert sdk.get("/api/v1/alerts").status_code == 403


class TestConfig:
    """`GET/PUT /alerts/config`: admin only, version-checked, audited, never showing a secret."""

    def test_nothing_stored(self, start_server: ServerFactory, tmp_path: Path) -> None:
        server = start_server(alerts_config=tmp_path / "absent.yaml")
        got = server.client().get("/api/v1/alerts/config").json()
        assert (got["origin"], got["version"], got["config"]) == ("none", 0, {})

    def test_stored_wins_over_the_file_and_is_masked(
        self, start_server: ServerFactory, tmp_path: Path
    ) -> None:
        file = tmp_path / "alerts.yaml"
        file.write_text("channels:\n  fromfile: {kind: webhook, url: 'https://a.example/f1le'}\n")
        server = start_server(alerts_config=file)
        got = server.client().get("/api/v1/alerts/config").json()
        assert (got["origin"], got["path"]) == ("file", str(file))
        assert got["config"]["channels"]["fromfile"]["url"] == "***f1le"
        url = "https://hooks.example.com" + SECRET_PATH
        document = webhook(url, headers={"Authorization": "Bearer abcdefgh12345678"})
        stored = put_config(server, document, 0)
        assert (stored["origin"], stored["version"], stored["updated_by"]) == ("api", 1, "root")
        again = server.client().get("/api/v1/alerts/config").json()
        assert again == stored
        hook = again["config"]["channels"]["hook"]
        assert hook["url"] == "***4lue"
        assert hook["headers"] == {"Authorization": "***5678"}
        assert "s3cr3t" not in json.dumps(again)
        assert "abcdefgh" not in json.dumps(again)

    def test_stale_version_is_a_conflict(self, server: RunningServer) -> None:
        put_config(server, {"channels": {"log": {"kind": "log"}}}, 0)
        stale = server.client().put(
            "/api/v1/alerts/config", json={"version": 0, "config": {"channels": {}}}
        )
        assert stale.status_code == 409
        assert stale.json()["error"]["field"] == "version"
        assert put_config(server, {"channels": {}}, 1)["version"] == 2

    def test_masked_values_shown_then_sent_back_keep_the_secret(
        self, server: RunningServer
    ) -> None:
        url = "https://hooks.example.com" + SECRET_PATH
        shown = put_config(server, webhook(url), 0)
        edited = shown["config"]
        edited["dedup_window_seconds"] = 60
        assert put_config(server, edited, 1)["config"]["dedup_window_seconds"] == 60
        with server.store.read() as conn:
            stored = read_stored(conn)
        assert stored is not None
        assert stored.document["channels"]["hook"]["url"] == url
        forged = webhook("***zzzz")
        response = server.client().put(
            "/api/v1/alerts/config", json={"version": 2, "config": forged}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "channels.hook.url"

    def test_invalid_documents_name_the_field(self, server: RunningServer) -> None:
        client = server.client()
        for document, field in (
            ({"channels": {"x": {"kind": "pager"}}}, "channels.x.kind"),
            ({"channels": {"x": {"kind": "slack"}}}, "channels.x.url"),
            (
                {"channels": {"x": {"kind": "webhook", "url": "${NOT_SET_ANYWHERE}"}}},
                "channels.x.url",
            ),
            ({"dedup_window_seconds": -1}, "dedup_window_seconds"),
            ({"chanels": {}}, "chanels"),
        ):
            response = client.put("/api/v1/alerts/config", json={"version": 0, "config": document})
            assert response.status_code == 422, (document, response.text)
            assert response.json()["error"]["field"] == field, response.text
        assert client.get("/api/v1/alerts/config").json()["version"] == 0

    def test_audited_with_redacted_before_and_after(self, server: RunningServer) -> None:
        put_config(server, {"channels": {"log": {"kind": "log"}}}, 0)
        put_config(server, webhook("https://hooks.example.com" + SECRET_PATH), 1)
        entries = audit.recent(server.store, action="alerts.config")
        assert [e.details["version"] for e in entries] == [2, 1]
        assert entries[0].actor == "root"
        assert entries[0].details["before"] == {"channels": {"log": {"kind": "log"}}}
        assert entries[0].details["after"]["channels"]["hook"]["url"] == "***4lue"
        assert "s3cr3t" not in json.dumps([e.details for e in entries])

    def test_roles(self, server: RunningServer) -> None:
        body = {"version": 0, "config": {}}
        anonymous = server.client(anonymous=True)
        assert anonymous.get("/api/v1/alerts/config").status_code == 401
        assert anonymous.put("/api/v1/alerts/config", json=body).status_code == 401
        for role in ("viewer", "developer", "pm"):
            client = server.client(server.token(role))
            assert client.get("/api/v1/alerts/config").status_code == 403, role
            assert client.put("/api/v1/alerts/config", json=body).status_code == 403, role
            assert client.post("/api/v1/alerts/test", json={"channel": "x"}).status_code == 403


class TestSendTest:
    """`POST /alerts/test` posts through one channel now and answers what happened."""

    def test_delivered(self, server: RunningServer, receiver: Receiver) -> None:
        put_config(server, webhook(receiver.url("/hook")), 0)
        response = server.client().post("/api/v1/alerts/test", json={"channel": "hook"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["channel"], body["kind"], body["delivered"], body["error"]) == (
            "hook",
            "webhook",
            True,
            None,
        )
        assert (
            receiver.accepted("/hook")[0].body["message"]
            == "Test alert from phased to channel hook"
        )

    def test_refused_by_the_channel(self, server: RunningServer, receiver: Receiver) -> None:
        receiver.default = Reply(status=500, body={"echo": "nope"})
        put_config(server, webhook(receiver.url(SECRET_PATH)), 0)
        body = (
            server.client()
            .post("/api/v1/alerts/test", json={"channel": "hook", "message": "hello"})
            .json()
        )
        assert body["delivered"] is False
        assert "answered 500" in body["error"]
        assert "s3cr3t" not in json.dumps(body)
        assert receiver.to(SECRET_PATH)[0].body["message"] == "hello"

    def test_unknown_channel(self, server: RunningServer) -> None:
        put_config(server, {"channels": {"log": {"kind": "log"}}}, 0)
        response = server.client().post("/api/v1/alerts/test", json={"channel": "nope"})
        assert response.status_code == 404
        assert response.json()["error"]["message"].endswith("configured channels: log")


class TestWorkerFollowsTheStoredConfig:
    """A config set through the API reaches the running server's worker without a restart."""

    def test_reload(self, start_server: ServerFactory, tmp_path: Path, receiver: Receiver) -> None:
        file = tmp_path / "alerts.yaml"
        file.write_text(f"channels:\n  hook: {{kind: webhook, url: '{receiver.url('/old')}'}}\n")

        def host(store: Store) -> EngineHost:
            worker = alert_worker_for(ServerSettings(alerts_config=file), store, env=ON)
            return EngineHost(None, alerts=AlertDelivery(worker, poll_seconds=0.05))

        server = start_server(background=host, alerts_config=file)
        with server.store.write() as conn:
            enqueue(conn, Alert(severity=Severity.CRITICAL, message="first"))
        wait_for(lambda: receiver.accepted("/old"))
        put_config(server, webhook(receiver.url("/new")), 0)
        with server.store.write() as conn:
            enqueue(conn, Alert(severity=Severity.CRITICAL, message="second"))
        wait_for(lambda: receiver.accepted("/new"))
        assert [p.body["message"] for p in receiver.accepted("/new")] == ["second"]
        assert [p.body["message"] for p in receiver.accepted("/old")] == ["first"]
        outbox = Outbox(server.store.engine)
        wait_for(lambda: {r.status for r in outbox.list()} == {DeliveryStatus.DELIVERED})
