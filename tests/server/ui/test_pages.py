"""The dashboard over plain HTTP: login, cookies, CSRF, confirmation, roles, errors, headers.

Real uvicorn on 127.0.0.1 (the ``start_server`` fixture), httpx as the
browser. What a browser test cannot see easily is pinned here: the cookie's
attributes, refused forgeries, the confirmation step without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from phased.obs.traces import get_trace_store
from phased.service import audit as audit_service
from phased.service import flags as flag_service
from phased.service import rollouts as percent_service
from phased.service import tokens as token_service

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field in the page"
    return found.group(1)


class Browser:
    """An httpx client that keeps cookies and sends Origin like a browser does on POST."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=10)

    def login(self, secret: str, next_path: str = "/ui/flags") -> httpx.Response:
        form = self.http.get("/ui/login", params={"next": next_path})
        nonce = _field(form.text, "nonce")
        return self.post("/ui/login", {"token": secret, "nonce": nonce, "next": next_path})

    def post(self, path: str, data: dict[str, str], origin: str | None = None) -> httpx.Response:
        return self.http.post(path, data=data, headers={"origin": origin or self.url})

    def csrf(self, path: str = "/ui/flags") -> str:
        return _field(self.http.get(path).text, "csrf")


@pytest.fixture
def server(start_server: ServerFactory) -> RunningServer:
    """A server with one flag, ``beta``, on at 10 % in prod."""
    running = start_server()
    store = running.store
    flag_service.create_flag(store, actor="setup", key="beta")
    flag_service.set_enabled(store, actor="setup", key="beta", environment="prod", enabled=True)
    percent_service.set_rollout(store, actor="setup", key="beta", environment="prod", percent=10)
    return running


@pytest.fixture
def browser(server: RunningServer) -> Iterator[Browser]:
    """A logged-out browser."""
    b = Browser(server.url)
    yield b
    b.http.close()


def _prod_percent(server: RunningServer) -> float:
    return flag_service.get_flag(server.store, "beta").flag.state("prod").rollout


class TestLogin:
    """A token logs in; the session lives in an HttpOnly, SameSite=Strict cookie."""

    def test_pages_send_strangers_to_the_login_form(self, browser: Browser) -> None:
        answer = browser.http.get("/ui/flags/beta")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/login?next=/ui/flags/beta"

    def test_good_token_sets_a_strict_httponly_cookie(
        self, browser: Browser, server: RunningServer
    ) -> None:
        answer = browser.login(server.admin_secret, "/ui/flags/beta")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/flags/beta"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("phased_session=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/" in cookie
        assert browser.http.get("/ui/flags/beta").status_code == 200

    def test_unknown_token_is_refused(self, browser: Browser) -> None:
        answer = browser.login("phd_not-a-token")
        assert answer.status_code == 401
        assert "unknown or revoked token" in answer.text
        assert "phased_session" not in browser.http.cookies

    def test_sdk_token_cannot_use_the_dashboard(
        self, browser: Browser, server: RunningServer
    ) -> None:
        answer = browser.login(server.token("sdk", environment="prod"))
        assert answer.status_code == 403
        assert "cannot use the dashboard" in answer.text

    def test_login_form_needs_its_own_nonce(self, browser: Browser, server: RunningServer) -> None:
        answer = browser.post("/ui/login", {"token": server.admin_secret, "nonce": "forged"})
        assert answer.status_code == 403
        assert "phased_session" not in browser.http.cookies

    def test_next_never_leaves_the_dashboard(self, browser: Browser, server: RunningServer) -> None:
        answer = browser.login(server.admin_secret, "//evil.example/ui/")
        assert answer.headers["location"] == "/ui/flags"

    def test_logout_forgets_the_token(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        refused = browser.post("/ui/logout", {"csrf": "wrong"})
        assert refused.status_code == 403
        answer = browser.post("/ui/logout", {"csrf": browser.csrf()})
        assert answer.status_code == 303
        assert browser.http.get("/ui/flags").status_code == 303

    def test_revoked_token_ends_the_session(self, browser: Browser, server: RunningServer) -> None:
        secret = server.token("pm", name="paula")
        browser.login(secret)
        row = next(t for t in token_service.list_tokens(server.store) if t.name == "paula")
        token_service.revoke_token(server.store, actor="setup", token_id=row.id)
        server.wait_for_revision()
        answer = browser.http.get("/ui/flags")
        assert answer.status_code == 303
        assert (
            "unknown+or+revoked" in answer.headers["location"]
            or "unknown%20or%20revoked" in (answer.headers["location"])
        )


class TestChanges:
    """A change needs the session's CSRF token, a same-site origin, the role and a confirmation."""

    def _form(self, browser: Browser, percent: str = "25") -> dict[str, str]:
        page = browser.http.get("/ui/flags/beta").text
        return {"csrf": _field(page, "csrf"), "percent": percent, "version": ""}

    def test_without_csrf_token_nothing_changes(
        self, browser: Browser, server: RunningServer
    ) -> None:
        browser.login(server.admin_secret)
        form = self._form(browser) | {"csrf": "", "confirm": "yes"}
        answer = browser.post("/ui/flags/beta/prod/rollout", form)
        assert answer.status_code == 403
        assert "CSRF" in answer.text
        assert _prod_percent(server) == 10

    def test_another_sessions_csrf_token_is_refused(
        self, browser: Browser, server: RunningServer
    ) -> None:
        other = Browser(server.url)
        other.login(server.token("admin", name="mallory"))
        browser.login(server.admin_secret)
        form = self._form(browser) | {"csrf": other.csrf(), "confirm": "yes"}
        assert browser.post("/ui/flags/beta/prod/rollout", form).status_code == 403
        assert _prod_percent(server) == 10
        other.http.close()

    def test_foreign_origin_is_refused(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        form = self._form(browser) | {"confirm": "yes"}
        answer = browser.post("/ui/flags/beta/prod/rollout", form, origin="https://evil.example")
        assert answer.status_code == 403
        assert _prod_percent(server) == 10

    def test_confirmation_page_without_javascript(
        self, browser: Browser, server: RunningServer
    ) -> None:
        browser.login(server.token("developer", name="dev-dana"))
        asked = browser.post("/ui/flags/beta/prod/rollout", self._form(browser, "30"))
        assert asked.status_code == 200
        assert "Set the rollout of beta in prod to 30 %?" in asked.text
        assert _prod_percent(server) == 10
        confirmed = {
            name: _field(asked.text, name) for name in ("csrf", "confirm", "percent", "version")
        }
        assert confirmed["confirm"] == "yes"
        done = browser.post("/ui/flags/beta/prod/rollout", confirmed)
        assert done.status_code == 303
        assert _prod_percent(server) == 30
        entry = audit_service.recent(server.store, limit=1)[0]
        assert (entry.actor, entry.action, entry.entity) == ("dev-dana", "rollout.set", "flag:beta")
        traced = get_trace_store().last("dev-dana")  # debug-last shows dashboard changes too
        assert traced is not None
        assert traced.command == "POST /ui/flags/{key}/{env}/rollout"
        assert traced.ok
        assert [s.name for s in traced.steps][:3] == ["authenticate", "validate", "service call"]
        page = browser.http.get(done.headers["location"])
        assert "beta in prod now rolls out to 30 %." in page.text

    def test_viewer_may_not_change_anything(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.token("viewer", name="vera"))
        form = self._form(browser) | {"confirm": "yes"}
        answer = browser.post("/ui/flags/beta/prod/rollout", form)
        assert answer.status_code == 403
        assert "may not do this" in answer.text
        assert _prod_percent(server) == 10

    def test_stale_page_is_refused_not_overwritten(
        self, browser: Browser, server: RunningServer
    ) -> None:
        browser.login(server.admin_secret)
        form = self._form(browser) | {"confirm": "yes", "version": "1"}
        answer = browser.post("/ui/flags/beta/prod/rollout", form)
        assert answer.status_code == 303
        assert _prod_percent(server) == 10
        page = browser.http.get(answer.headers["location"]).text
        assert "changed since version 1" in page

    def test_bad_percentage_is_explained(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        form = self._form(browser, "101") | {"confirm": "yes"}
        answer = browser.post("/ui/flags/beta/prod/rollout", form)
        page = browser.http.get(answer.headers["location"]).text
        assert "percent" in page
        assert "flash-error" in page
        assert _prod_percent(server) == 10

    def test_override_with_expiry(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        form = {
            "csrf": browser.csrf("/ui/flags/beta"),
            "confirm": "yes",
            "target": "user",
            "value": "u-42",
            "serve": "on",
            "expires": "7d",
            "note": "support ticket 99",
        }
        assert browser.post("/ui/flags/beta/prod/overrides", form).status_code == 303
        (pin,) = flag_service.get_flag(server.store, "beta").flag.state("prod").overrides
        assert (pin.attribute, pin.value, pin.serve, pin.note) == (
            "user",
            "u-42",
            True,
            "support ticket 99",
        )
        assert pin.expires is not None


class TestPagesAndErrors:
    """Pages carry the security headers; errors are pages on /ui and JSON on the API."""

    def test_security_headers(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        answer = browser.http.get("/ui/flags")
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "beta" in answer.text

    def test_static_files_are_local(self, browser: Browser) -> None:
        for name in ("phased.css", "phased.js", "favicon.svg"):
            assert browser.http.get(f"/ui/static/{name}").status_code == 200

    def test_unknown_rollout_is_a_page(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        answer = browser.http.get("/ui/rollouts/nope")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "no rollout of" in answer.text
        api = server.client().get("/api/v1/rollouts/nope")
        assert api.status_code == 404
        assert api.json()["error"]["code"] == "not_found"

    def test_every_page_renders(self, browser: Browser, server: RunningServer) -> None:
        browser.login(server.admin_secret)
        for path in ("/ui/flags", "/ui/flags/beta", "/ui/rollouts", "/ui/audit", "/ui/alerts"):
            assert browser.http.get(path).status_code == 200, path
        filtered = browser.http.get("/ui/audit", params={"action": "rollout.", "actor": "setup"})
        assert "rollout.set" in filtered.text
        assert "chain verified" in filtered.text
