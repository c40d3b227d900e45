"""``GET /api/v1/rollouts/{flag}`` carries the summary; an approval keeps its note."""

from __future__ import annotations

from phased.service import flags as flag_service
from phased.service import members, plan_rollouts

from .conftest import ServerFactory

PLAN = """\
flag: beta
environment: prod
stages:
  - name: first
    audience: 5
    approval: {roles: [pm], note: before anyone sees it}
  - name: all
    audience: 100
budget:
  cost_usd_per_day: {pause: 5, rollback: 10}
"""


class TestSummaryOverHttp:
    """The API's summary is the dashboard's: waits with roles; the PM's note is kept."""

    def test_summary_and_note(self, start_server: ServerFactory) -> None:
        running = start_server()
        store = running.store
        flag_service.create_flag(store, actor="setup", key="beta")
        members.add_member(store, actor="setup", name="pat", roles=["pm"])
        plan_rollouts.apply_plan(store, actor="alice", text=PLAN, path="beta.yaml")
        api = running.client()
        summary = api.get("/api/v1/rollouts/beta").json()["summary"]
        assert summary["phase"] == "pending"
        assert summary["who_must_act"] == ["pm"]
        assert summary["waits"][0]["detail"].startswith("approval by pm (0 of 1 given")
        assert summary["status"].startswith("waits for stage first: approval by pm")
        pm = running.client(running.token("pm", name="pat"))
        done = pm.post(
            "/api/v1/rollouts/beta/approve", json={"stage": "first", "note": "ok for Monday"}
        )
        assert done.status_code == 200, done.text
        approvals = done.json()["rollout"]["state"]["approvals"]
        assert [(a["actor"], a["note"]) for a in approvals] == [("pat", "ok for Monday")]
        summary = api.get("/api/v1/rollouts/beta").json()["summary"]
        assert summary["who_must_act"] == []
        assert summary["status"] == "ready: would advance now"
