"""OFREP over real HTTP: evaluation, reasons, bulk ETag/304, auth, and bad input never a 500."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phased import Client
from server.ofrep_setup import FLAGS_FILE, load_flags

if TYPE_CHECKING:
    from server.conftest import RunningServer


@pytest.fixture
def ofrep(server: RunningServer) -> httpx.Client:
    """An httpx client with an sdk token bound to prod, the flags loaded."""
    return server.client(load_flags(server))


def _eval(client: httpx.Client, key: str, context: Any) -> httpx.Response:
    return client.post(f"/ofrep/v1/evaluate/flags/{key}", json={"context": context})


class TestSingle:
    """POST /ofrep/v1/evaluate/flags/{key}: the SDK's evaluation, OpenFeature's reasons."""

    def test_override_is_a_targeting_match(self, ofrep: httpx.Client) -> None:
        body = _eval(ofrep, "new-checkout", {"targetingKey": "vip-1"}).json()
        assert body == {
            "key": "new-checkout",
            "value": True,
            "reason": "TARGETING_MATCH",
            "variant": "on",
            "metadata": {
                "reason": "override:user=vip-1",
                "environment": "prod",
                "arm": "candidate",
            },
        }

    def test_segment_and_attributes_pass_through(self, ofrep: httpx.Client) -> None:
        body = _eval(ofrep, "new-checkout", {"targetingKey": "u-1", "role": "pm"}).json()
        assert (body["value"], body["reason"]) == (True, "TARGETING_MATCH")
        assert body["metadata"]["reason"] == "segment:staff"

    def test_rollout_matches_the_python_sdk_for_every_user(self, ofrep: httpx.Client) -> None:
        sdk = Client.from_file(FLAGS_FILE, environment="prod")
        seen = set()
        for i in range(300):
            user = f"user-{i}"
            for key in ("new-checkout", "layout"):
                body = _eval(ofrep, key, {"targetingKey": user}).json()
                local = sdk.evaluate(key, user=user)
                assert (body["value"], body["variant"]) == (local.value, local.variant), user
                assert body["metadata"]["reason"] == local.reason
                seen.add((key, body["reason"]))
        assert seen == {
            ("new-checkout", "SPLIT"),
            ("new-checkout", "DEFAULT"),
            ("layout", "SPLIT"),
        }

    def test_object_payload_of_the_variant(self, ofrep: httpx.Client) -> None:
        body = _eval(ofrep, "theme", {"targetingKey": "u-1"}).json()
        assert body["value"] == {"background": "#000000", "contrast": 2}
        assert (body["variant"], body["reason"]) == ("dark", "DEFAULT")

    def test_kill_switch_is_disabled(self, ofrep: httpx.Client) -> None:
        body = _eval(ofrep, "killed-feature", {"targetingKey": "vip-1"}).json()
        assert (body["value"], body["reason"], body["metadata"]["reason"]) == (
            False,
            "DISABLED",
            "killed",
        )

    def test_unknown_flag_is_404_flag_not_found(self, ofrep: httpx.Client) -> None:
        response = _eval(ofrep, "nope", {"targetingKey": "u-1"})
        assert response.status_code == 404
        body = response.json()
        assert (body["key"], body["errorCode"]) == ("nope", "FLAG_NOT_FOUND")
        assert "'nope' is not in the 'prod' flag set" in body["errorDetails"]

    def test_a_change_is_served_at_once(self, server: RunningServer, ofrep: httpx.Client) -> None:
        assert _eval(ofrep, "static-on", {"targetingKey": "u"}).json()["value"] is True
        server.client().put(
            "/api/v1/flags/static-on/environments/prod/enabled", json={"enabled": False}
        )
        server.wait_for_revision()
        body = _eval(ofrep, "static-on", {"targetingKey": "u"}).json()
        assert (body["value"], body["reason"]) == (False, "DISABLED")


class TestBadInput:
    """Malformed bodies and contexts are the protocol's error codes with a message, never 500."""

    CASES = (
        (b"{not json", "PARSE_ERROR", "request body is not JSON"),
        (b"", "PARSE_ERROR", "request body is empty"),
        (b"[1, 2]", "PARSE_ERROR", "request body is a JSON array, not an object"),
        (b'{"context": "u-1"}', "INVALID_CONTEXT", "context is a JSON string"),
        (b'{"context": [1]}', "INVALID_CONTEXT", "context is a JSON array"),
        (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT", "targetingKey is a JSON"),
        (b'{"context": {}}', "TARGETING_KEY_MISSING", "send a targetingKey"),
    )

    def test_single(self, ofrep: httpx.Client) -> None:
        for content, code, message in self.CASES:
            response = ofrep.post("/ofrep/v1/evaluate/flags/new-checkout", content=content)
            assert response.status_code == 400, content
            body = response.json()
            assert (body["key"], body["errorCode"]) == ("new-checkout", code)
            assert message in body["errorDetails"]

    def test_no_targeting_key_is_fine_without_a_split(self, ofrep: httpx.Client) -> None:
        assert _eval(ofrep, "static-on", {}).json()["value"] is True
        body = _eval(ofrep, "new-checkout", {"role": "admin"}).json()
        assert (body["value"], body["reason"]) == (True, "TARGETING_MATCH")

    def test_oversized_body(self, ofrep: httpx.Client) -> None:
        big = {"targetingKey": "u", "blob": "x" * 300_000}
        response = _eval(ofrep, "static-on", big)
        assert response.status_code == 400
        assert response.json()["errorCode"] == "PARSE_ERROR"

    def test_bulk_refusal_has_no_key(self, ofrep: httpx.Client) -> None:
        response = ofrep.post("/ofrep/v1/evaluate/flags", content=b'{"context": 3}')
        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_CONTEXT"
        assert "key" not in response.json()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        context=st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["role", "user", "targetingKey", "x"]), inner)
            ),
            max_leaves=8,
        ),
        key=st.sampled_from(["new-checkout", "layout", "theme", "nope"]),
    )
    def test_any_json_context_is_answered_by_the_protocol(
        self, ofrep: httpx.Client, context: Any, key: str
    ) -> None:
        response = ofrep.post(
            f"/ofrep/v1/evaluate/flags/{key}", content=json.dumps({"context": context})
        )
        assert response.status_code in (200, 400, 404), response.text
        body = response.json()
        assert body["key"] == key
        assert ("value" in body) != ("errorCode" in body)


class TestAuth:
    """SDK tokens as Bearer or X-API-Key; per environment; 401 and 403 as the spec says."""

    def test_api_key_header(self, server: RunningServer, ofrep: httpx.Client) -> None:
        secret = ofrep.headers["authorization"].removeprefix("Bearer ")
        anonymous = server.client(anonymous=True)
        response = anonymous.post(
            "/ofrep/v1/evaluate/flags/static-on",
            json={"context": {"targetingKey": "u"}},
            headers={"X-API-Key": secret},
        )
        assert response.json()["value"] is True

    def test_bad_or_missing_token_is_401(self, server: RunningServer, ofrep: httpx.Client) -> None:
        anonymous = server.client(anonymous=True)
        for headers in ({}, {"Authorization": "Bearer phd_wrong"}, {"X-API-Key": "nope"}):
            response = anonymous.post(
                "/ofrep/v1/evaluate/flags/static-on", json={"context": {}}, headers=headers
            )
            assert response.status_code == 401
            assert response.json()["errorCode"] == "GENERAL"

    def test_token_environment(self, server: RunningServer, ofrep: httpx.Client) -> None:
        dev = server.client(server.token("sdk", name="dev-sdk", environment="dev"))
        body = _eval(dev, "static-on", {"targetingKey": "u"}).json()
        assert (body["value"], body["metadata"]["environment"]) == (False, "dev")
        refused = ofrep.post(
            "/ofrep/v1/evaluate/flags/static-on",
            json={"context": {}},
            headers={"X-Phased-Environment": "dev"},
        )
        assert refused.status_code == 403

    def test_unbound_token_names_its_environment(self, server: RunningServer) -> None:
        load_flags(server)
        viewer = server.client(server.token("viewer"))
        response = viewer.post(
            "/ofrep/v1/evaluate/flags/static-on",
            json={"context": {}},
            headers={"X-Phased-Environment": "prod"},
        )
        assert response.json()["metadata"]["environment"] == "prod"
        unknown = viewer.post(
            "/ofrep/v1/evaluate/flags/static-on",
            json={"context": {}},
            headers={"X-Phased-Environment": "moon"},
        )
        assert unknown.status_code == 400
        assert "unknown environment 'moon'" in unknown.json()["errorDetails"]


class TestBulk:
    """POST /ofrep/v1/evaluate/flags: every flag, an ETag of the answer, 304 when unchanged."""

    def test_every_flag_success_or_failure(self, ofrep: httpx.Client) -> None:
        response = ofrep.post(
            "/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "vip-1"}}
        )
        assert response.status_code == 200
        flags = {f["key"]: f for f in response.json()["flags"]}
        assert set(flags) == {"new-checkout", "layout", "theme", "killed-feature", "static-on"}
        assert flags["new-checkout"]["value"] is True
        assert flags["theme"]["value"]["background"] == "#000000"
        assert response.json()["metadata"] == {"environment": "prod"}

    def test_missing_targeting_key_fails_only_the_split_flags(self, ofrep: httpx.Client) -> None:
        flags = ofrep.post("/ofrep/v1/evaluate/flags", json={"context": {}}).json()["flags"]
        failed = {f["key"] for f in flags if "errorCode" in f}
        assert failed == {"new-checkout", "layout"}

    def test_etag_and_304(self, server: RunningServer, ofrep: httpx.Client) -> None:
        request = {"context": {"targetingKey": "user-1"}}
        first = ofrep.post("/ofrep/v1/evaluate/flags", json=request)
        etag = first.headers["etag"]
        again = ofrep.post(
            "/ofrep/v1/evaluate/flags", json=request, headers={"If-None-Match": etag}
        )
        assert (again.status_code, again.content) == (304, b"")
        other = ofrep.post(
            "/ofrep/v1/evaluate/flags",
            json={"context": {"targetingKey": "vip-1"}},
            headers={"If-None-Match": etag},
        )
        assert other.status_code == 200
        server.client().put(
            "/api/v1/flags/static-on/environments/prod/enabled", json={"enabled": False}
        )
        server.wait_for_revision()
        changed = ofrep.post(
            "/ofrep/v1/evaluate/flags", json=request, headers={"If-None-Match": etag}
        )
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag


class TestConfiguration:
    """GET /ofrep/v1/configuration: kept for providers written before it left the protocol."""

    def test_configuration_and_304(self, ofrep: httpx.Client) -> None:
        response = ofrep.get("/ofrep/v1/configuration")
        assert response.json()["name"] == "phased"
        cached = ofrep.get(
            "/ofrep/v1/configuration", headers={"If-None-Match": response.headers["etag"]}
        )
        assert cached.status_code == 304


class TestRoutedPath:
    """The documented FastAPI routes answer exactly as the fast path in front of them."""

    def test_same_answers(self, server: RunningServer, ofrep: httpx.Client) -> None:
        import asyncio
        from contextlib import AsyncExitStack

        app = server.server.config.app

        async def routed(scope: Any, receive: Any, send: Any) -> None:
            # What FastAPI's own middleware stack puts in the scope before routing.
            async with AsyncExitStack() as stack:
                scope = {**scope, "app": app, "fastapi_middleware_astack": stack}
                await app.router(scope, receive, send)

        async def ask_both() -> list[tuple[int, bytes, int, bytes]]:
            transport = httpx.ASGITransport(app=routed)
            out = []
            async with httpx.AsyncClient(
                transport=transport, base_url="http://x", headers=dict(ofrep.headers)
            ) as direct:
                for path, content in (
                    (
                        "/ofrep/v1/evaluate/flags/new-checkout",
                        b'{"context":{"targetingKey":"u-3"}}',
                    ),
                    ("/ofrep/v1/evaluate/flags/nope", b'{"context":{}}'),
                    ("/ofrep/v1/evaluate/flags/layout", b"{bad"),
                    ("/ofrep/v1/evaluate/flags", b'{"context":{"targetingKey":"u-3"}}'),
                ):
                    a = await direct.post(path, content=content)
                    b = await asyncio.to_thread(ofrep.post, path, content=content)
                    out.append((a.status_code, a.content, b.status_code, b.content))
            return out

        for routed_status, routed_body, fast_status, fast_body in asyncio.run(ask_both()):
            assert (routed_status, routed_body) == (fast_status, fast_body)
