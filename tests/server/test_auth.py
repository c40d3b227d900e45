"""Tokens and roles over HTTP: who may read, who may change, and who is on record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from server.conftest import RunningServer, ServerFactory


def _create_flag(
    server: RunningServer, secret: str | None = None, key: str = "checkout"
) -> httpx.Response:
    return server.client(secret).post("/api/v1/flags", json={"key": key})


class TestAuthentication:
    """A request without a valid token is refused with 401 and the error shape."""

    def test_missing_token(self, server: RunningServer) -> None:
        response = server.client(anonymous=True).get("/api/v1/flags")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"

    def test_unknown_token(self, server: RunningServer) -> None:
        response = server.client("phd_not-a-token").get("/api/v1/flags")
        assert response.status_code == 401
        assert response.json()["error"]["field"] == "authorization"

    def test_revoked_token_stops_working(self, server: RunningServer) -> None:
        secret = server.token("viewer")
        assert server.client(secret).get("/api/v1/flags").status_code == 200
        me = server.client(secret).get("/api/v1/tokens/me").json()
        assert server.client().delete(f"/api/v1/tokens/{me['token_id']}").status_code == 200
        server.wait_for_revision()
        assert server.client(secret).get("/api/v1/flags").status_code == 401

    def test_secret_is_not_stored(self, server: RunningServer) -> None:
        created = (
            server.client().post("/api/v1/tokens", json={"name": "alice", "role": "pm"}).json()
        )
        listed = server.client().get("/api/v1/tokens").text
        assert created["secret"].startswith("phd_")
        assert created["secret"] not in listed
        assert created["secret"] not in str(server.store.dump())


class TestRoles:
    """Each role does what docs/api.md says and nothing more."""

    def test_viewer_reads_but_cannot_change(self, server: RunningServer) -> None:
        viewer = server.token("viewer")
        assert server.client(viewer).get("/api/v1/flags").status_code == 200
        response = _create_flag(server, viewer)
        assert response.status_code == 403
        assert "developer" in response.json()["error"]["message"]

    @pytest.mark.parametrize("role", ["admin", "pm", "developer"])
    def test_people_change_flags(self, server: RunningServer, role: str) -> None:
        assert _create_flag(server, server.token(role), key=f"f-{role}").status_code == 201

    def test_sdk_token_reads_only_its_flag_set(self, server: RunningServer) -> None:
        sdk = server.token("sdk", environment="prod")
        client = server.client(sdk)
        assert client.get("/api/v1/flags").status_code == 403
        assert _create_flag(server, sdk).status_code == 403
        assert client.get("/api/v1/sdk/flags").status_code == 200
        other = client.get("/api/v1/sdk/flags", params={"environment": "dev"})
        assert other.status_code == 403
        assert other.json()["error"]["field"] == "env"

    def test_only_admins_manage_tokens(self, server: RunningServer) -> None:
        pm = server.client(server.token("pm"))
        assert pm.get("/api/v1/tokens").status_code == 403
        assert pm.post("/api/v1/tokens", json={"name": "x", "role": "admin"}).status_code == 403

    def test_audit_actor_is_the_token_owner(self, server: RunningServer) -> None:
        alice = server.token("pm", name="alice")
        _create_flag(server, alice)
        entries = server.client().get("/api/v1/audit", params={"action": "flag."}).json()
        assert [e["actor"] for e in entries] == ["alice"]


class TestRateLimit:
    """Mutations beyond a token's budget get 429 with Retry-After; reads do not count."""

    def test_burst_then_429(self, start_server: ServerFactory) -> None:
        server = start_server(mutation_burst=3, mutations_per_minute=6)
        dev = server.client(server.token("developer"))
        codes = [dev.post("/api/v1/flags", json={"key": f"f{i}"}).status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        refused = dev.post("/api/v1/flags", json={"key": "f9"})
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert dev.get("/api/v1/flags").status_code == 200

    def test_limits_are_per_token(self, start_server: ServerFactory) -> None:
        server = start_server(mutation_burst=1, mutations_per_minute=1)
        first, second = server.token("developer", "a"), server.token("developer", "b")
        assert _create_flag(server, first, "a1").status_code == 201
        assert _create_flag(server, first, "a2").status_code == 429
        assert _create_flag(server, second, "b1").status_code == 201
