"""The SDK endpoints: flag set with ETag/304, the change stream, outcome batches counted once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from phased.core.flags import FlagSet
from phased.core.outcomes import Aggregate, Arm, OutcomeKey

if TYPE_CHECKING:
    from server.conftest import RunningServer


def _flag(server: RunningServer, key: str = "checkout", percent: float = 25) -> None:
    admin = server.client()
    admin.post("/api/v1/flags", json={"key": key})
    admin.put(f"/api/v1/flags/{key}/environments/prod/rollout", json={"percent": percent})
    server.wait_for_revision()


class TestFlagSet:
    """GET /sdk/flags: one environment's flag set, an ETag, 304 when unchanged."""

    def test_payload_is_a_flag_set_of_the_token_environment(self, server: RunningServer) -> None:
        _flag(server)
        sdk = server.client(server.token("sdk", environment="prod"))
        response = sdk.get("/api/v1/sdk/flags")
        assert response.status_code == 200
        body = response.json()
        assert body["environment"] == "prod"
        flagset = FlagSet.model_validate(body["flagset"])
        assert flagset.environments == ("prod",)
        assert flagset.flags["checkout"].state("prod").rollout == 25
        assert set(flagset.flags["checkout"].environments) == {"prod"}

    def test_if_none_match_gives_304_until_a_change(self, server: RunningServer) -> None:
        _flag(server)
        sdk = server.client(server.token("sdk", environment="prod"))
        etag = sdk.get("/api/v1/sdk/flags").headers["etag"]
        again = sdk.get("/api/v1/sdk/flags", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        server.client().put(
            "/api/v1/flags/checkout/environments/prod/rollout", json={"percent": 50}
        )
        server.wait_for_revision()
        changed = sdk.get("/api/v1/sdk/flags", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag

    def test_change_elsewhere_keeps_the_etag(self, server: RunningServer) -> None:
        _flag(server)
        sdk = server.client(server.token("sdk", environment="prod"))
        etag = sdk.get("/api/v1/sdk/flags").headers["etag"]
        server.client().put("/api/v1/flags/checkout/environments/dev/rollout", json={"percent": 50})
        server.wait_for_revision()
        assert sdk.get("/api/v1/sdk/flags", headers={"If-None-Match": etag}).status_code == 304

    def test_without_token(self, server: RunningServer) -> None:
        response = server.client(anonymous=True).get("/api/v1/sdk/flags")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


class TestStream:
    """GET /sdk/stream: a change made through the API reaches a connected client within 1 s."""

    def test_change_arrives_within_a_second(self, server: RunningServer) -> None:
        _flag(server)
        secret = server.token("sdk", environment="prod")
        events: list[tuple[float, dict[str, Any]]] = []
        connected = threading.Event()

        def listen() -> None:
            headers = {"Authorization": f"Bearer {secret}"}
            with (
                httpx.Client(base_url=server.url, headers=headers, timeout=10) as client,
                client.stream("GET", "/api/v1/sdk/stream") as stream,
            ):
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        events.append((time.monotonic(), json.loads(line[6:])))
                        connected.set()
                        if len(events) == 2:
                            return

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert connected.wait(5), "no initial event"
        changed_at = time.monotonic()
        server.client().put(
            "/api/v1/flags/checkout/environments/prod/rollout", json={"percent": 60}
        )
        thread.join(timeout=5)
        assert len(events) == 2, events
        first, second = events[0][1], events[1][1]
        assert second["etag"] != first["etag"]
        assert events[1][0] - changed_at < 1.0
        current = server.client(secret).get("/api/v1/sdk/flags").headers["etag"]
        assert second["etag"] == current


def _batch(batch_id: str, requests: int = 10, errors: int = 1, env: str = "prod") -> dict[str, Any]:
    agg = Aggregate()
    for i in range(requests):
        agg.record(latency_ms=100 + i, error=i < errors, user=f"u{i}")
    key = OutcomeKey("checkout", env, Arm.CANDIDATE, "canary", 178_000_000)
    return {
        "batch_id": batch_id,
        "windows": [{"key": key.to_dict(), "aggregate": agg.to_dict()}],
    }


class TestOutcomes:
    """POST /sdk/outcomes: batches merge; a retried batch id is never counted twice."""

    def test_retried_batch_counts_once(self, server: RunningServer) -> None:
        sdk = server.client(server.token("sdk", environment="prod"))
        batch = _batch(uuid.uuid4().hex)
        first = sdk.post("/api/v1/sdk/outcomes", json=batch)
        retry = sdk.post("/api/v1/sdk/outcomes", json=batch)
        assert first.json() == {"accepted": 1, "duplicate": False}
        assert retry.json() == {"accepted": 0, "duplicate": True}
        sdk.post("/api/v1/sdk/outcomes", json=_batch(uuid.uuid4().hex))
        totals = server.client().get(
            "/api/v1/outcomes/checkout", params={"environment": "prod", "arm": "candidate"}
        )
        arm = totals.json()["arms"][0]
        assert (arm["requests"], arm["errors"]) == (20, 2)

    def test_windows_of_another_environment_are_refused(self, server: RunningServer) -> None:
        sdk = server.client(server.token("sdk", environment="prod"))
        response = sdk.post("/api/v1/sdk/outcomes", json=_batch("b-1", env="dev"))
        assert response.status_code == 403
        assert response.json()["error"]["field"] == "windows[0].key.environment"

    def test_inconsistent_aggregate_is_422(self, server: RunningServer) -> None:
        sdk = server.client(server.token("sdk", environment="prod"))
        batch = _batch("b-2")
        batch["windows"][0]["aggregate"]["errors"] = 99
        response = sdk.post("/api/v1/sdk/outcomes", json=batch)
        assert response.status_code == 422
        assert response.json()["error"]["field"].startswith("windows[0]")

    def test_windows_with_and_without_units_are_accepted(self, server: RunningServer) -> None:
        """New SDKs send per-unit records; batches of older ones (no units) still merge."""
        sdk = server.client(server.token("sdk", environment="prod"))
        old = _batch(uuid.uuid4().hex)
        assert "units" not in old["windows"][0]["aggregate"]
        new = _batch(uuid.uuid4().hex)
        agg = Aggregate()
        for i in range(10):
            agg.record(latency_ms=100 + i, error=i < 1, user=f"u{i}", unit=f"u{i % 4}")
        new["windows"][0]["aggregate"] = agg.to_dict()
        assert new["windows"][0]["aggregate"]["units"]["requests"] == 10
        for batch in (old, new):
            response = sdk.post("/api/v1/sdk/outcomes", json=batch)
            assert response.json() == {"accepted": 1, "duplicate": False}
        bad = _batch(uuid.uuid4().hex)
        bad["windows"][0]["aggregate"]["units"] = {"requests": -3}
        response = sdk.post("/api/v1/sdk/outcomes", json=bad)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "windows[0].units"
