"""Every failure is JSON `{"error": {code, message, field}}` with the right status, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from server.conftest import RunningServer


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["message"]
    return dict(body["error"])


class TestStatuses:
    """The statuses a client can branch on."""

    def test_not_found(self, server: RunningServer) -> None:
        error = _error(server.client().get("/api/v1/flags/nope"), 404)
        assert error["code"] == "not_found"
        assert "nope" in error["message"]

    def test_conflict_on_duplicate(self, server: RunningServer) -> None:
        client = server.client()
        client.post("/api/v1/flags", json={"key": "dup"})
        assert _error(client.post("/api/v1/flags", json={"key": "dup"}), 409)["code"] == "conflict"

    def test_conflict_on_stale_version(self, server: RunningServer) -> None:
        client = server.client()
        client.post("/api/v1/flags", json={"key": "f"})
        path = "/api/v1/flags/f/environments/prod/rollout"
        assert client.put(path, json={"percent": 5, "version": 1}).status_code == 200
        error = _error(client.put(path, json={"percent": 10, "version": 1}), 409)
        assert error["field"] == "version"

    @pytest.mark.parametrize("percent", [101, -1, 12.345])
    def test_bad_percentage_is_422_naming_the_field(
        self, server: RunningServer, percent: float
    ) -> None:
        client = server.client()
        client.post("/api/v1/flags", json={"key": "f"})
        error = _error(
            client.put("/api/v1/flags/f/environments/prod/rollout", json={"percent": percent}), 422
        )
        assert error["field"] == "percent"

    def test_unknown_environment(self, server: RunningServer) -> None:
        client = server.client()
        client.post("/api/v1/flags", json={"key": "f"})
        error = _error(
            client.put("/api/v1/flags/f/environments/moon/enabled", json={"enabled": True}), 422
        )
        assert "moon" in error["message"]

    def test_request_validation_uses_the_same_shape(self, server: RunningServer) -> None:
        client = server.client()
        assert _error(client.post("/api/v1/flags", json={}), 422)["field"] == "key"
        error = _error(client.post("/api/v1/flags", json={"key": "k", "bogus": 1}), 422)
        assert error["field"] == "bogus"
        not_json = client.post(
            "/api/v1/flags", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert _error(not_json, 422)["code"] == "invalid"

    def test_unknown_route_and_method(self, server: RunningServer) -> None:
        assert _error(server.client().get("/api/v1/nothing-here"), 404)["code"] == "not_found"
        method = _error(server.client().patch("/api/v1/flags"), 405)
        assert method["code"] == "method_not_allowed"

    def test_refused_plan_is_not_a_500(self, server: RunningServer) -> None:
        error = _error(
            server.client().post("/api/v1/plans/apply", json={"text": "flag: [unclosed"}), 422
        )
        assert error["code"] in ("invalid", "invalid_file")


class TestNoServerErrorsForBadInput:
    """A sweep of malformed requests: each is a 4xx in the error shape."""

    BAD: tuple[tuple[str, str, Any], ...] = (
        ("POST", "/api/v1/flags", {"key": "BAD KEY"}),
        ("POST", "/api/v1/flags", {"key": "x" * 300}),
        ("POST", "/api/v1/flags", {"key": "v", "variants": {"a": 60, "b": 60}}),
        ("POST", "/api/v1/flags", {"key": 5}),
        ("POST", "/api/v1/segments", {"key": "s", "where": ["role is maybe"]}),
        ("POST", "/api/v1/segments", {"key": "s", "where": []}),
        ("POST", "/api/v1/flags/none/overrides", {"environment": "prod", "serve": True}),
        ("POST", "/api/v1/flags-file/apply", {"text": "flags: [1, 2"}),
        ("POST", "/api/v1/flags-file/apply", {"text": "version: 9\nflags: {}"}),
        ("GET", "/api/v1/audit?limit=0", None),
        ("GET", "/api/v1/audit?since=yesterday", None),
        ("GET", "/api/v1/outcomes/f?environment=moon", None),
        ("POST", "/api/v1/incidents", {"flag": "f", "severity": "P9"}),
        ("POST", "/api/v1/members", {"name": "x", "roles": ["wizard"]}),
        ("POST", "/api/v1/tokens", {"name": "x", "role": "sdk"}),
        ("POST", "/api/v1/rollouts/none/rollback", {"reason": ""}),
        ("POST", "/api/v1/sdk/outcomes", {"batch_id": "b 1", "windows": []}),
        ("POST", "/api/v1/flags/none/evaluate", {"environment": "prod", "context": []}),
    )

    @pytest.mark.parametrize(("method", "path", "body"), BAD)
    def test_bad_input_is_a_client_error(
        self, server: RunningServer, method: str, path: str, body: Any
    ) -> None:
        response = server.client().request(method, path, json=body)
        assert 400 <= response.status_code < 500, response.text
        _error(response, response.status_code)


class TestSecurityHeaders:
    """Every response carries the security headers, errors included."""

    @pytest.mark.parametrize("path", ["/healthz", "/api/v1/flags", "/api/v1/nope", "/metrics"])
    def test_headers(self, server: RunningServer, path: str) -> None:
        headers = server.client().get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"


class TestOpenAPI:
    """The published document describes every operation and its errors."""

    def test_every_operation_has_an_id_and_documents_errors(self, server: RunningServer) -> None:
        doc = server.client(anonymous=True).get("/openapi.json").json()
        ids = []
        for path, item in doc["paths"].items():
            for method, op in item.items():
                ids.append(op["operationId"])
                assert op.get("description") or op.get("summary"), (method, path)
                if path.startswith("/api/v1"):
                    for status in ("401", "403", "404", "409", "422", "429"):
                        ref = op["responses"][status]["content"]["application/json"]["schema"]
                        assert ref["$ref"].endswith("/ErrorBody"), (method, path, status)
        assert len(ids) == len(set(ids))
        assert "token" in doc["components"]["securitySchemes"]
