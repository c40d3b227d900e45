"""The rollout's hook runs and source queries over HTTP: any reader, newest first, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from phased.service import flags, hook_runs, plan_rollouts, source_queries
from phased.service.source_queries import QueryRecord

if TYPE_CHECKING:
    from phased.store.engine import Store
    from server.conftest import RunningServer

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
PLAN = """\
flag: {flag}
environment: prod
stages:
  - name: canary
    audience: 5
  - name: full
    audience: 100
"""


def start_rollout(store: Store, flag: str) -> int:
    """A new flag and a rollout of it (no hooks, no checks); the rollout's id."""
    flags.create_flag(store, actor="root", key=flag)
    return plan_rollouts.apply_plan(store, actor="root", text=PLAN.format(flag=flag)).rollout.id


def record_history(store: Store, flag: str = "bot_smoke") -> int:
    """A rollout of ``flag`` with two hook runs and three source queries; its id.

    The same calls on two fresh stores give the same history (times aside),
    which is how the CLI twin tests give the server and the local store one.
    """
    rollout_id = start_rollout(store, flag)
    entity = f"rollout:{flag}"
    hook_runs.poll(
        store, rollout_id=rollout_id, transition="confirm_advance:canary:1", hook="gate",
        phase="confirm_advance", stage="canary", status="passed", detail="200 ok",
        attempts=2, entity=entity, actor="engine",
    )  # fmt: skip
    _, run = hook_runs.claim(
        store, rollout_id=rollout_id, transition="pre_stage:full:1:1", hook="smoke",
        phase="pre_stage", stage="full", by="engine",
    )  # fmt: skip
    hook_runs.finish(
        store, run, status="failed", detail="exit 1: nope", attempts=1, entity=entity,
        actor="engine",
    )  # fmt: skip

    def query(arm: str, seconds: int, value: float | None, latency: float) -> QueryRecord:
        return QueryRecord(
            rollout_id=rollout_id, at=AT + timedelta(seconds=seconds), stage="canary",
            check_key="error_rate<0.01", source="prom", arm=arm,
            query=f'sum(rate(errors{{arm="{arm}"}}[5m]))', ok=value is not None, value=value,
            latency_ms=latency, message="" if value is not None else "timed out after 5 s",
        )  # fmt: skip

    source_queries.save(
        store,
        [query("candidate", 0, 0.012, 13.49), query("control", 0, 0.01, 8.0),
         query("candidate", 60, None, 5000.25)],
        streak_since=AT,
    )  # fmt: skip
    return rollout_id


class TestHookRunsApi:
    """``GET /rollouts/{flag}/hooks``: the latest rollout's hook runs, for any reader."""

    def test_viewer_reads_the_runs_newest_first(self, server: RunningServer) -> None:
        rollout_id = record_history(server.store)
        viewer = server.client(server.token("viewer"))
        response = viewer.get("/api/v1/rollouts/bot_smoke/hooks")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rollout_id"] == rollout_id
        assert [(r["hook"], r["status"], r["attempts"]) for r in body["runs"]] == [
            ("smoke", "failed", 1),
            ("gate", "passed", 2),
        ]
        assert body["runs"][0]["detail"] == "exit 1: nope"
        assert body["runs"][0]["claimed_by"] == "engine"
        limited = viewer.get("/api/v1/rollouts/bot_smoke/hooks", params={"limit": 1}).json()
        assert [r["hook"] for r in limited["runs"]] == ["smoke"]

    def test_a_rollout_without_runs_is_named(self, server: RunningServer) -> None:
        start_rollout(server.store, "quiet")
        body = server.client().get("/api/v1/rollouts/quiet/hooks").json()
        assert body == {"rollout_id": 1, "runs": []}

    def test_refusals(self, server: RunningServer) -> None:
        missing = server.client().get("/api/v1/rollouts/nope/hooks")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        sdk = server.client(server.token("sdk", environment="prod"))
        assert sdk.get("/api/v1/rollouts/nope/hooks").status_code == 403
        anonymous = server.client(anonymous=True)
        assert anonymous.get("/api/v1/rollouts/nope/hooks").status_code == 401
        bad = server.client().get("/api/v1/rollouts/nope/hooks", params={"limit": 0})
        assert bad.status_code == 422


class TestSourceQueriesApi:
    """``GET /rollouts/{flag}/source-queries``: what the engine asked its sources, bounded."""

    def test_viewer_reads_the_queries_newest_first(self, server: RunningServer) -> None:
        rollout_id = record_history(server.store)
        viewer = server.client(server.token("viewer"))
        response = viewer.get("/api/v1/rollouts/bot_smoke/source-queries")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rollout_id"] == rollout_id
        newest = body["queries"][0]
        assert (newest["ok"], newest["value"], newest["message"]) == (
            False,
            None,
            "timed out after 5 s",
        )
        assert [(q["arm"], q["value"]) for q in body["queries"][1:]] == [
            ("control", 0.01),
            ("candidate", 0.012),
        ]
        assert body["queries"][2]["latency_ms"] == 13.49  # as measured, not rounded
        assert body["queries"][2]["check"] == "error_rate<0.01"
        limited = viewer.get("/api/v1/rollouts/bot_smoke/source-queries", params={"limit": 2})
        assert len(limited.json()["queries"]) == 2

    def test_refusals(self, server: RunningServer) -> None:
        missing = server.client().get("/api/v1/rollouts/nope/source-queries")
        assert missing.status_code == 404
        assert "nope" in missing.json()["error"]["message"]
        sdk = server.client(server.token("sdk", environment="prod"))
        assert sdk.get("/api/v1/rollouts/nope/source-queries").status_code == 403
        anonymous = server.client(anonymous=True)
        assert anonymous.get("/api/v1/rollouts/nope/source-queries").status_code == 401
