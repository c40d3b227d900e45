"""Retiring flags over HTTP: readers check and list, flag writers retire; refusals are 4xx."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.conftest import RunningServer


class TestRetireApi:
    """The check changes nothing; the retirement is refused (409) until forced or ready."""

    def test_check_refuse_force(self, server: RunningServer) -> None:
        admin = server.client()
        assert admin.post("/api/v1/flags", json={"key": "awf"}).status_code == 201
        viewer = server.client(server.token("viewer"))
        checked = viewer.get("/api/v1/flags/awf/retire/check", params={"code_refs": 2})
        assert checked.status_code == 200, checked.text
        found = {p["name"]: p for p in checked.json()}
        assert list(found) == ["full", "gates", "goldens", "old_path_unused", "code"]
        assert found["code"] == {
            "name": "code",
            "holds": False,
            "detail": "2 reference(s) still read the flag",
        }
        refused = viewer.post("/api/v1/flags/awf/retire", json={"force": True})
        assert refused.status_code == 403
        conflict = admin.post("/api/v1/flags/awf/retire", json={"code_refs": 0})
        assert conflict.status_code == 409
        error = conflict.json()["error"]
        assert (error["code"], error["field"]) == ("conflict", "flag")
        assert error["message"].startswith("flag: cannot retire 'awf' yet: full: ")
        assert admin.get("/api/v1/flags/awf").status_code == 200  # refused: nothing changed
        done = server.client(server.token("developer", name="dev")).post(
            "/api/v1/flags/awf/retire", json={"force": True}
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["flag"], body["value"], body["retired"], body["forced"]) == (
            "awf",
            True,
            True,
            True,
        )
        assert len(body["prerequisites"]) == 5
        archived = admin.get("/api/v1/flags/archived").json()
        assert [(a["key"], a["archived_by"]) for a in archived] == [("awf", "dev")]
        audit = admin.get("/api/v1/audit", params={"action": "flag.retire"}).json()
        assert [(e["actor"], e["details"]["forced"]) for e in audit] == [("dev", True)]

    def test_bad_input(self, server: RunningServer) -> None:
        admin = server.client()
        assert admin.post("/api/v1/flags", json={"key": "awf"}).status_code == 201
        assert admin.get("/api/v1/flags/nope/retire/check").status_code == 404
        assert admin.post("/api/v1/flags/nope/retire", json={}).status_code == 404
        for body in ({"days": -1}, {"days": 10**6}, {"code_refs": -1}, {"actor": "x"}):
            assert admin.post("/api/v1/flags/awf/retire", json=body).status_code == 422, body
        wrong = admin.get("/api/v1/flags/awf/retire/check", params={"value": "b"})
        assert wrong.status_code == 422
        assert wrong.json()["error"]["field"] == "value"


class TestStaleApi:
    """Readers list flags that look done; ``/flags/stale`` is not read as a flag key."""

    def test_list(self, server: RunningServer) -> None:
        viewer = server.client(server.token("viewer"))
        assert server.client().post("/api/v1/flags", json={"key": "fresh"}).status_code == 201
        listed = viewer.get("/api/v1/flags/stale")
        assert listed.status_code == 200, listed.text
        assert listed.json() == []
        assert viewer.get("/api/v1/flags/stale", params={"days": 0}).status_code == 422
        assert viewer.get("/api/v1/flags/stale", params={"days": 10**6}).status_code == 422
