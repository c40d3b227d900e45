"""The dashboard in real headless Chromium, against a real server and store.

Given a store with flags, a running AWF rollout and a UX rollout awaiting a
PM; when an admin raises a percentage and a PM approves a stage through the
pages (confirming in the dialog); then the store and the audit log show it.
Every test fails if any page logs a console error, throws, or has a request
that fails or answers 4xx/5xx.

Screenshots of every page (laptop and phone) go to ``$PHASED_SCREENSHOTS``
when set (``PHASED_SCREENSHOTS=docs/screenshots`` refreshes the docs), else
to a temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phased.service import audit as audit_service
from phased.service import flags as flag_service
from phased.service import plan_rollouts

from .conftest import Dashboard
from .pngsmall import shrink

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MAX_SHOT_HEIGHT = {"desktop": 1200, "phone": 1600}


class Problems:
    """Everything a page did wrong: console errors, uncaught exceptions, failed requests."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Any) -> Any:
        """Record ``page``'s problems; returns the page."""

        def console(message: Any) -> None:
            if message.type in ("error", "warning"):
                self.seen.append(f"console {message.type}: {message.text} ({page.url})")

        def response(answer: Any) -> None:
            if answer.status >= 400:
                self.seen.append(f"HTTP {answer.status}: {answer.request.method} {answer.url}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error} ({page.url})"))
        page.on("requestfailed", self._failed)
        page.on("response", response)
        return page

    def _failed(self, request: Any) -> None:
        # ERR_ABORTED is the browser dropping a request because the test navigated
        # on (typically the favicon); a server failure shows as a status or a
        # connection error instead.
        if request.failure != "net::ERR_ABORTED":
            self.seen.append(f"request failed: {request.method} {request.url}: {request.failure}")


PageFactory = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any, dashboard: Dashboard) -> Iterator[PageFactory]:
    """New pages (laptop or phone sized) whose problems fail the test at its end."""
    problems = Problems()
    contexts: list[Any] = []

    def make(*, phone: bool = False) -> Any:
        context = browser.new_context(
            base_url=dashboard.url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=1,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return problems.watch(context.new_page())

    yield make
    for context in contexts:
        context.close()
    assert problems.seen == [], "the pages had problems:\n" + "\n".join(problems.seen)


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where screenshots go."""
    target = os.environ.get("PHASED_SCREENSHOTS")
    if target:
        path = Path(target)
    else:
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="phased-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_in(page: Any, secret: str, next_path: str = "/ui/flags") -> None:
    """Log in through the form, as a person would."""
    page.goto(next_path)
    page.wait_for_url("**/ui/login**")
    page.fill("#token", secret)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"**{next_path}")


def confirm(page: Any, expected: str) -> None:
    """The confirmation dialog is open, asks ``expected``; confirm it."""
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert expected in dialog.inner_text()
    with page.expect_navigation():
        dialog.get_by_test_id("confirm-yes").click()


class TestAdminRaisesPercentage:
    """An admin raises a rollout percentage through a confirmation dialog; cancel changes nothing."""

    def test_raise_with_confirmation(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.admin)
        assert page.get_by_test_id("who").inner_text() == "alice"
        page.click("a.flag-key:has-text('one_page_checkout')")
        page.wait_for_url("**/ui/flags/one_page_checkout")
        assert page.get_by_test_id("rollout-prod").inner_text() == "10 %"

        page.fill("#pct-prod", "25")
        page.get_by_test_id("set-rollout-prod").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "one_page_checkout in prod to 25 %" in dialog.inner_text()
        dialog.locator("button[value=cancel]").click()
        dialog.wait_for(state="hidden")
        state = flag_service.get_flag(dashboard.store, "one_page_checkout").flag.state("prod")
        assert state.rollout == 10

        page.get_by_test_id("set-rollout-prod").click()
        confirm(page, "one_page_checkout in prod to 25 %")
        assert "now rolls out to 25 %" in page.get_by_test_id("flash").inner_text()
        assert page.get_by_test_id("rollout-prod").inner_text() == "25 %"
        state = flag_service.get_flag(dashboard.store, "one_page_checkout").flag.state("prod")
        assert state.rollout == 25
        entry = audit_service.recent(dashboard.store, limit=1, entity="flag:one_page_checkout")[0]
        assert (entry.actor, entry.action) == ("alice", "rollout.set")


class TestAdminSwitchesAndPins:
    """The kill switch and a new override each ask first, then take effect."""

    def test_toggle_and_override(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.admin, "/ui/flags/one_page_checkout")
        assert page.get_by_test_id("state-dev").inner_text() == "killed · kill switch"
        page.get_by_test_id("toggle-dev").click()
        confirm(page, "Turn ON one_page_checkout in dev?")
        assert page.get_by_test_id("state-dev").inner_text() == "live"

        card = page.locator("#env-staging")
        card.locator("summary:has-text('Add an override')").click()
        card.locator("select[name=target]").select_option("session")
        card.locator("input[name=value]").fill("s-77")
        card.locator("input[name=expires]").fill("2h")
        card.locator("button:has-text('Add override')").click()
        confirm(page, "Pin one_page_checkout to on for session s-77 in staging?")
        assert "s-77" in page.locator("#env-staging .pins").inner_text()
        flag = flag_service.get_flag(dashboard.store, "one_page_checkout").flag
        assert flag.state("dev").enabled
        assert [(o.attribute, o.value) for o in flag.state("staging").overrides] == [
            ("session", "s-77")
        ]


class TestAudienceAndDrift:
    """The dialog shows who gains and loses; a flag a running plan controls asks for force."""

    def test_dialog_preview_then_forced_drift(
        self, open_page: PageFactory, dashboard: Dashboard
    ) -> None:
        store = dashboard.store
        flag_service.create_flag(store, actor="alice", key="drift_demo")
        flag_service.set_enabled(
            store, actor="alice", key="drift_demo", environment="prod", enabled=True
        )
        plan = "flag: drift_demo\nenvironment: prod\nstages:\n  - {name: five, audience: 5}\n"
        page = open_page()
        log_in(page, dashboard.people.admin, "/ui/flags/drift_demo")
        page.fill("#pct-prod", "20")
        page.get_by_test_id("set-rollout-prod").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "20 % more of users (0 -> 20 %)" in dialog.inner_text()
        dialog.locator("button[value=cancel]").click()
        dialog.wait_for(state="hidden")

        plan_rollouts.apply_plan(store, actor="alice", text=plan, path="drift.yaml")
        page.reload()
        page.fill("#pct-prod", "30")
        with page.expect_navigation():
            page.get_by_test_id("set-rollout-prod").click()
        assert "rollout #" in page.get_by_test_id("confirm-drift").inner_text()
        page.get_by_test_id("confirm-force").check()
        with page.expect_navigation():
            page.click("main button.primary:has-text('Confirm')")
        assert flag_service.get_flag(store, "drift_demo").flag.state("prod").rollout == 30
        assert plan_rollouts.get_rollout(store, "drift_demo").phase == "paused"


class TestPmApprovesStage:
    """A PM approves the next stage of a rollout and finds the entry in the audit log."""

    def test_approve_then_audit(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.pm, "/ui/rollouts")
        page.click("a.flag-key:has-text('ux_updates')")
        page.wait_for_url("**/ui/rollouts/ux_updates")
        assert page.get_by_test_id("force-advance").count() == 0  # admins only
        stage = plan_rollouts.get_rollout(dashboard.store, "ux_updates").plan.stages[0].name
        page.get_by_test_id(f"approve-{stage}").click()
        confirm(page, f"Approve stage {stage} of ux_updates as pat?")
        assert f"Approved stage {stage}" in page.get_by_test_id("flash").inner_text()
        assert page.get_by_test_id(f"approve-{stage}").count() == 0
        rollout = plan_rollouts.get_rollout(dashboard.store, "ux_updates")
        assert [(a.stage, a.actor) for a in rollout.state.approvals] == [(stage, "pat")]

        page.click("nav a:has-text('Audit')")
        page.fill("input[name=action]", "rollout.")
        page.fill("input[name=actor]", "pat")
        with page.expect_navigation():
            page.click("form.filters button")
        first = page.get_by_test_id("audit-entries").locator("li.entry").first
        assert first.get_attribute("data-action") == "rollout.approve"
        assert "rollout:ux_updates" in first.inner_text()
        assert page.get_by_test_id("chain").inner_text().startswith("✔ chain verified")


class TestViewer:
    """A viewer reads everything and is offered no control at all."""

    def test_no_controls(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts/awf_bundle")
        assert page.locator("main form[method=post]").count() == 0
        assert page.get_by_test_id("controls").count() == 0
        assert page.get_by_test_id("chart").count() >= 3
        page.goto("/ui/flags/awf_bundle")
        assert page.locator("main form[method=post]").count() == 0
        assert page.get_by_test_id("rollout-prod").is_visible()
        page.goto("/ui/alerts")
        failed = page.locator("li.alert[data-status=failed]")
        assert "Connection refused" in failed.first.inner_text()
        assert page.locator("li.alert[data-status=delivered]").count() >= 1


PAGES = [
    ("flags", "/ui/flags"),
    ("flag", "/ui/flags/awf_bundle"),
    ("rollouts", "/ui/rollouts"),
    ("rollout-running", "/ui/rollouts/awf_bundle"),
    ("rollout-pending", "/ui/rollouts/ux_updates"),
    ("rollout-held-for-approval", "/ui/rollouts/checkout_redesign"),
    ("rollout-rolled-back", "/ui/rollouts/unified_pipeline"),
    ("rollout-completed", "/ui/rollouts/new_checkout"),
    ("inbox", "/ui/inbox"),
    ("signoff", "/ui/rollouts/ux_updates/signoff"),
    ("audit", "/ui/audit"),
    ("alerts", "/ui/alerts"),
]


def _shoot(page: Any, path: Path, kind: str, *, whole: bool = True) -> None:
    """The page (its top part, when long) as a PNG; palette PNGs when refreshing the docs."""
    if whole:
        height = page.evaluate("document.documentElement.scrollHeight")
        width = page.viewport_size["width"]
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT_HEIGHT[kind])}
        png = page.screenshot(full_page=True, clip=clip)
    else:
        png = page.screenshot()
    if os.environ.get("PHASED_SCREENSHOTS"):
        png = shrink(page.context.browser, png)
    path.write_bytes(png)


class TestEveryPage:
    """Every page renders without errors on a laptop and a phone, with nothing wider than the screen."""

    @pytest.mark.parametrize("kind", ["desktop", "phone"])
    def test_pages(
        self, open_page: PageFactory, dashboard: Dashboard, shots: Path, kind: str
    ) -> None:
        page = open_page(phone=kind == "phone")
        page.goto("/ui/login")
        _shoot(page, shots / f"login-{kind}.png", kind)
        log_in(page, dashboard.people.admin)
        for name, path in PAGES:
            page.goto(path)
            assert page.locator("h1").first.is_visible()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than the {kind} screen"
            _shoot(page, shots / f"{name}-{kind}.png", kind)
            if name == "rollout-running" and kind == "desktop":
                png = page.locator(".charts").screenshot()
                (shots / "charts-desktop.png").write_bytes(
                    shrink(page.context.browser, png)
                    if os.environ.get("PHASED_SCREENSHOTS")
                    else png
                )
        page.goto("/ui/flags/one_page_checkout")
        page.locator("[data-testid=toggle-prod]").click()
        page.locator("#confirm-dialog").wait_for(state="visible")
        _shoot(page, shots / f"confirm-{kind}.png", kind, whole=False)
        page.locator("#confirm-dialog button[value=cancel]").click()
