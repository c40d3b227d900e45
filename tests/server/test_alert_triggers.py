"""Alert triggers over HTTP, fed by a real Alertmanager (Debian's prometheus-alertmanager).

Given a running phased server with a rollout and a trigger, when Alertmanager
notifies its webhook receiver, then the rollout pauses, and resumes on the
resolved notification only because the plan says so.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from phased.core.rollout_state import RolloutPhase
from phased.service import flags
from phased.service import plan_rollouts as pr
from server.conftest import RunningServer, free_port
from sources.conftest import require_binary

PLAN = """\
flag: bot_smoke
environment: prod
on_alert: {action: pause, resume_on_resolved: true}
stages:
  - name: canary
    audience: 5
    min_duration: 1h
  - name: full
    audience: 100
"""


def start_rollout(server: RunningServer) -> None:
    flags.create_flag(server.store, actor="seed", key="bot_smoke")
    pr.apply_plan(server.store, actor="alice", text=PLAN)


def create(server: RunningServer, **body: object) -> dict[str, object]:
    response = server.client().post("/api/v1/triggers", json={"flag": "bot_smoke", **body})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def phase(server: RunningServer) -> RolloutPhase:
    return pr.get_rollout(server.store, "bot_smoke").state.phase


def wait_for(server: RunningServer, wanted: RolloutPhase, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while phase(server) is not wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"rollout is {phase(server)}, never {wanted}")
        time.sleep(0.1)


class TestEndpoint:
    """The inbound endpoint: by URL token or bearer token, admin to create."""

    def test_fire_by_url_and_by_header(self, server: RunningServer) -> None:
        start_rollout(server)
        token = str(create(server, name="plain")["token"])
        anon = server.client(anonymous=True)
        r = anon.post(f"/api/v1/triggers/fire/{token}", json={"name": "smoke failed"})
        assert r.status_code == 202, r.text
        assert r.json()["results"][0]["did"] == "paused"
        r = anon.post(
            "/api/v1/triggers/fire",
            json={"name": "again"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.json()["results"][0]["did"] == "nothing: already paused"

    def test_refusals(self, server: RunningServer) -> None:
        start_rollout(server)
        anon = server.client(anonymous=True)
        assert (
            anon.post("/api/v1/triggers/fire/phd_trg_guess", json={"name": "x"}).status_code == 401
        )
        assert anon.post("/api/v1/triggers/fire", json={"name": "x"}).status_code == 401
        viewer = server.client(server.token("viewer"))
        assert (
            viewer.post("/api/v1/triggers", json={"flag": "bot_smoke", "name": "x"}).status_code
            == 403
        )
        token = str(create(server, name="am")["token"])
        bad = anon.post(f"/api/v1/triggers/fire/{token}", json={"status": "firing"})
        assert bad.status_code == 422
        assert "needs a name" in bad.text
        listed = server.client().get("/api/v1/triggers").json()
        assert [t["name"] for t in listed] == ["am"]
        assert token not in str(listed)


class TestManage:
    """Listing needs a reader's token, revoking an admin's; the CLI's backend calls these."""

    def test_list_and_revoke(self, server: RunningServer) -> None:
        flags.create_flag(server.store, actor="seed", key="bot_smoke")
        create(server, name="am", match={"team": "bots"})
        create(server, flag="*", name="any", action="rollback")
        viewer = server.client(server.token("viewer"))
        listed = viewer.get("/api/v1/triggers", params={"flag": "bot_smoke"})
        assert listed.status_code == 200, listed.text
        assert [(t["flag"], t["name"], t["match"]) for t in listed.json()] == [
            ("bot_smoke", "am", {"team": "bots"})
        ]
        pm = server.client(server.token("pm"))
        assert pm.delete("/api/v1/triggers/bot_smoke/am").status_code == 403
        assert viewer.delete("/api/v1/triggers/bot_smoke/am").status_code == 403
        gone = server.client().delete("/api/v1/triggers/*/any")
        assert gone.status_code == 200, gone.text
        assert (gone.json()["name"], gone.json()["enabled"]) == ("any", False)
        missing = server.client().delete("/api/v1/triggers/bot_smoke/nobody")
        assert missing.status_code == 404
        assert "no trigger 'nobody'" in missing.text
        states = {t["name"]: t["enabled"] for t in viewer.get("/api/v1/triggers").json()}
        assert states == {"am": True, "any": False}


@pytest.fixture
def alertmanager(tmp_path: Path) -> tuple[Path, int]:
    """A config path to fill in and the port Alertmanager will listen on (started by the test)."""
    require_binary("prometheus-alertmanager")
    return tmp_path, free_port()


def run_alertmanager(root: Path, port: int, webhook: str, token: str) -> subprocess.Popen[bytes]:
    (root / "alertmanager.yml").write_text(
        "route:\n"
        "  receiver: phased\n"
        "  group_by: [alertname]\n"
        "  group_wait: 0s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: phased\n"
        "    webhook_configs:\n"
        f"      - url: {webhook}\n"
        "        send_resolved: true\n"
        "        http_config:\n"
        f"          authorization: {{credentials: {token}}}\n"
    )
    with (root / "alertmanager.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                "prometheus-alertmanager",
                f"--config.file={root / 'alertmanager.yml'}",
                f"--storage.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((root / "alertmanager.log").read_text()[-2000:])
        time.sleep(0.1)


class TestRealAlertmanager:
    """Alertmanager's own webhook notifications, as it sends them."""

    def test_firing_pauses_and_resolved_resumes(
        self, server: RunningServer, alertmanager: tuple[Path, int]
    ) -> None:
        root, port = alertmanager
        start_rollout(server)
        token = str(create(server, name="alertmanager", match={"team": "bots"})["token"])
        proc = run_alertmanager(root, port, f"{server.url}/api/v1/triggers/fire", token)
        try:
            alert = {
                "labels": {"alertname": "LambdaErrors", "team": "bots", "flag": "bot_smoke"},
                "annotations": {"summary": "Lambda errors above 5 %"},
                "startsAt": datetime.now(UTC).isoformat(),
                "generatorURL": "http://127.0.0.1/graph",
            }
            api = f"http://127.0.0.1:{port}/api/v2/alerts"
            assert httpx.post(api, json=[alert], timeout=5).status_code == 200
            wait_for(server, RolloutPhase.PAUSED)
            history = pr.rollout_history(server.store, "bot_smoke")
            paused = [h for h in history if h.kind == "pause"][-1]
            assert paused.actor == "alert:alertmanager"
            assert "alert LambdaErrors firing: Lambda errors above 5 %" in paused.reason
            ended = {**alert, "endsAt": datetime.now(UTC).isoformat()}
            assert httpx.post(api, json=[ended], timeout=5).status_code == 200
            wait_for(server, RolloutPhase.RUNNING)
            resumed = pr.rollout_history(server.store, "bot_smoke")[-1]
            assert (resumed.kind, resumed.source) == ("resume", "alert")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
