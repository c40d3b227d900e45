"""The dashboard's confirmation pages show who gains and loses, and decide drift like the CLI."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from phased.service import flags as flag_service
from phased.service import plan_rollouts
from phased.service import rollouts as percent_service
from server.ui.test_pages import Browser, _field

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

PLAN = """\
flag: beta
environment: prod
stages:
  - {name: canary-10, audience: 10, min_duration: 1h}
  - {name: all, audience: 100}
"""


@pytest.fixture
def server(start_server: ServerFactory) -> RunningServer:
    """``beta`` on at 10 % in prod."""
    running = start_server()
    store = running.store
    flag_service.create_flag(store, actor="setup", key="beta")
    flag_service.set_enabled(store, actor="setup", key="beta", environment="prod", enabled=True)
    percent_service.set_rollout(store, actor="setup", key="beta", environment="prod", percent=10)
    return running


@pytest.fixture
def browser(server: RunningServer) -> Iterator[Browser]:
    """A browser logged in as admin."""
    b = Browser(server.url)
    b.login(server.admin_secret)
    yield b
    b.http.close()


def _prod(server: RunningServer) -> float:
    return flag_service.get_flag(server.store, "beta").flag.state("prod").rollout


def _form(browser: Browser, **extra: str) -> dict[str, str]:
    page = browser.http.get("/ui/flags/beta").text
    return {"csrf": _field(page, "csrf"), "version": "", **extra}


class TestConfirmAudience:
    """Kill switch, percentage and override confirmations name the audience change."""

    def test_percentage_down_names_the_losers(
        self, browser: Browser, server: RunningServer
    ) -> None:
        """10 % -> 4 % shows 6 % of users losing it before anything changes."""
        asked = browser.post("/ui/flags/beta/prod/rollout", _form(browser, percent="4"))
        assert asked.status_code == 200
        text = html.unescape(asked.text)
        assert "6 % of users (10 -> 4 %)" in text
        assert 'data-testid="confirm-drift"' not in asked.text
        assert _prod(server) == 10

    def test_kill_switch_names_everyone(self, browser: Browser, server: RunningServer) -> None:
        """Engaging the kill switch: everyone who had it loses it."""
        asked = browser.post("/ui/flags/beta/prod/enabled", _form(browser, enabled="off"))
        assert "everyone who had it (kill switch engaged)" in html.unescape(asked.text)

    def test_override_gain(self, browser: Browser, server: RunningServer) -> None:
        """Pinning one user on is that user's gain."""
        form = _form(browser, target="user", value="u-1", serve="on")
        asked = browser.post("/ui/flags/beta/prod/overrides", form)
        assert "override user=u-1" in html.unescape(asked.text)


class TestConfirmDrift:
    """A change to a flag a running plan controls asks for force, and then holds the rollout."""

    def test_refused_without_force_held_with_it(
        self, browser: Browser, server: RunningServer
    ) -> None:
        """The page warns; confirming without the box is refused; with it, the rollout holds."""
        plan_rollouts.apply_plan(server.store, actor="alice", text=PLAN, path="beta.yaml")
        asked = browser.post("/ui/flags/beta/prod/rollout", _form(browser, percent="30"))
        assert 'data-testid="confirm-drift"' in asked.text
        assert "rollout #1" in asked.text
        confirmed = {n: _field(asked.text, n) for n in ("csrf", "confirm", "percent", "version")}
        refused = browser.post("/ui/flags/beta/prod/rollout", confirmed)
        assert refused.status_code == 303
        page = browser.http.get(refused.headers["location"])
        assert "--force" in html.unescape(page.text)
        assert _prod(server) == 10
        forced = browser.post("/ui/flags/beta/prod/rollout", confirmed | {"force": "on"})
        assert forced.status_code == 303
        assert _prod(server) == 30
        rollout = plan_rollouts.get_rollout(server.store, "beta")
        assert rollout.phase == "paused"
        assert "rollout 10 % -> 30 %" in rollout.state.reason


class TestEmergencyPages:
    """The emergency pages (kill, clear every override) show the same audience preview."""

    def test_kill_page_shows_who_loses_it(self, browser: Browser, server: RunningServer) -> None:
        """Before the kill switch: everyone who has it now loses it; nothing changes yet."""
        page = browser.http.get("/ui/flags/beta/prod/emergency/kill")
        assert page.status_code == 200
        assert 'data-testid="preview"' in page.text
        assert "everyone who had it (kill switch engaged)" in html.unescape(page.text)
        assert 'data-testid="confirm-drift"' not in page.text
        assert flag_service.get_flag(server.store, "beta").flag.state("prod").enabled

    def test_plan_controlled_flag_asks_for_force(
        self, browser: Browser, server: RunningServer
    ) -> None:
        """Under a running plan the kill page warns and its form requires the force box."""
        plan_rollouts.apply_plan(server.store, actor="alice", text=PLAN, path="beta.yaml")
        page = browser.http.get("/ui/flags/beta/prod/emergency/kill")
        assert 'data-testid="confirm-drift"' in page.text
        assert 'name="force" value="on"' in page.text
        assert "rollout #1" in page.text
