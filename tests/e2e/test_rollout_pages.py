"""The rollout pages a PM signs off on, in real Chromium: at a glance, in plain numbers.

Given the seeded store (a running AWF rollout waiting for a checklist item, a
pending UX rollout waiting for a PM, a completed and a rolled-back rollout);
when a person opens the list and each rollout; then the page says in words
what each waits for and who must act, every check in the metric's unit with a
verdict in words, and the whole plan before anything is measured.
"""

from __future__ import annotations

import re
from typing import Any

from phased.service import audit as audit_service
from phased.service import flags as flag_service
from phased.service import plan_rollouts

from . import test_dashboard
from .conftest import Dashboard
from .test_dashboard import PageFactory, log_in

open_page = test_dashboard.open_page  # the same fixture: problems on any page fail the test


def _why(page: Any, flag: str) -> str:
    text: str = page.locator(f"[data-rollout={flag}] [data-testid=why]").inner_text()
    return text


class TestRolloutList:
    """The list says what each rollout waits for, or how it ended: never who applied it."""

    def test_waits_column(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts")
        assert _why(page, "awf_bundle").startswith("waits for stage canary-50: golden run")
        assert "approval by pm" in _why(page, "ux_updates")
        assert "needs pm" in _why(page, "ux_updates")
        assert _why(page, "new_checkout") == "completed after stage everyone"
        assert _why(page, "unified_pipeline").startswith("rolled back at stage canary-5")
        assert "applied by" not in page.locator("main").inner_text()


class TestRunningAtAGlance:
    """A running rollout: stage in words, who must act, exposure, every check in plain numbers."""

    def test_glance_and_checks(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts/awf_bundle")
        glance = page.get_by_test_id("glance")
        assert page.get_by_test_id("glance-phase").inner_text() == "running"
        assert "stage 2 of 4 (canary-25): 25 % of users in prod" in glance.inner_text()
        assert "pm" in page.get_by_test_id("must-act").inner_text()
        assert "golden run of 'awf-goldens'" in page.get_by_test_id("waits").inner_text()
        exposure = page.get_by_test_id("exposure").inner_text()
        assert "requests" in exposure
        assert "users" in exposure
        assert page.get_by_test_id("exposure-chart").locator("svg polyline").count() == 1
        checks = page.get_by_test_id("checks")
        row = checks.locator("[data-check='error_rate not worse than control']")
        text = row.inner_text()
        assert "%" in text
        assert "no evidence of harm" in text
        assert "vs" not in text or "control" in text
        fallback = checks.locator("[data-check='SLO: fallback rate']").inner_text()
        assert "points worse trips it (at 1.00 %)" in fallback
        assert "rolls back to 0 %" in fallback
        assert "0.00" not in checks.inner_text().replace("0.00 %", "")  # no raw decimals
        assert "e-value" not in glance.inner_text()


class TestPendingShowsThePlan:
    """Before anything is measured the whole plan is there: triggers, budget, approvals."""

    def test_plan_visible(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.pm, "/ui/rollouts/ux_updates")
        assert page.get_by_test_id("glance-phase").inner_text() == "pending"
        assert page.get_by_test_id("must-act").inner_text().startswith("Needs a person: pm")
        plan = page.get_by_test_id("plan")
        assert plan.get_attribute("open") is not None
        text = plan.inner_text()
        assert "approval before it starts: 1 × pm (before deploying to production)" in text
        assert "DynamoDB tables created" in text
        budget = page.get_by_test_id("plan-budget").inner_text()
        assert "cost_usd_per_day > $5.00" in budget
        assert "pauses for a person" in budget
        assert "cost_usd_per_day > $10.00" in budget
        assert "rolls back to 0 %" in budget
        triggers = page.get_by_test_id("plan-triggers").inner_text()
        assert "error_rate > 1.00 %" in triggers
        assert "latency_p95_ms > 10,000 ms" in triggers
        assert "Nothing is measured yet: the plan below says what will be." in (
            page.locator("main").inner_text()
        )


class TestFinished:
    """A completed rollout says completed (not hold); a rolled-back one names the harm."""

    def test_completed(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts/new_checkout")
        assert page.get_by_test_id("glance-phase").inner_text() == "completed"
        assert page.get_by_test_id("phase").inner_text() == "completed"
        now = page.locator("section.now").inner_text()
        assert "hold" not in now
        assert "completed after stage everyone" in now
        assert page.get_by_test_id("next").inner_text() == "Next: nothing: the rollout is complete"

    def test_rolled_back(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts/unified_pipeline")
        assert page.get_by_test_id("glance-phase").inner_text() == "rolled back"
        row = page.get_by_test_id("checks").locator("[data-check='error rate above 10 %']")
        assert "harmful: rolled back" in row.inner_text()
        # The measured rate (about 30 %, seeded traffic) is shown in plain numbers, far past 10 %.
        measured = re.search(r"(\d+\.\d+) %", row.inner_text())
        assert measured is not None
        assert float(measured.group(1)) > 20


class TestHistoryStory:
    """Runs of holds read as one line with a count and a span; the rollback stands out and
    links to its audit entry."""

    def test_story(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.viewer, "/ui/rollouts/unified_pipeline")
        history = page.get_by_test_id("history")
        lines = history.locator("li.hist")
        kinds = [lines.nth(i).get_attribute("data-kind") for i in range(lines.count())]
        assert kinds == ["rollback", "hold", "advance", "apply"]
        held = history.locator("li[data-kind=hold]")
        count = int(held.get_attribute("data-count") or "0")
        assert count >= 20
        assert f"held × {count}" in held.inner_text()
        assert "→" in held.inner_text()
        rollback = history.locator("li[data-kind=rollback]")
        assert "notable" in (rollback.get_attribute("class") or "")
        link = rollback.get_by_test_id("audit-link")
        with page.expect_navigation():
            link.click()
        anchor = page.url.split("#", 1)[1]
        entry = page.locator(f"li#{anchor}")
        assert entry.get_attribute("data-action") == "rollout.rollback"


class TestThePersonWhoMustAct:
    """The PM finds the UX rollout in their inbox, approves with a note, and the sign-off
    sheet shows it; a developer's inbox does not list the PM's approval."""

    def test_inbox_approve_with_note_signoff(
        self, open_page: PageFactory, dashboard: Dashboard
    ) -> None:
        page = open_page()
        log_in(page, dashboard.people.pm, "/ui/inbox")
        item = page.get_by_test_id("inbox").locator("[data-rollout=ux_updates]")
        assert "approval by pm" in item.inner_text()
        assert "stage infrastructure" in item.inner_text()
        assert page.get_by_test_id("inbox").locator("[data-rollout=new_checkout]").count() == 0
        page.get_by_test_id("act-ux_updates").click()
        page.wait_for_url("**/ui/rollouts/ux_updates#timeline")
        page.get_by_test_id("note-infrastructure").fill("deploy window agreed with on-call")
        page.get_by_test_id("approve-infrastructure").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "Note: deploy window agreed with on-call" in dialog.inner_text()
        with page.expect_navigation():
            dialog.get_by_test_id("confirm-yes").click()
        assert "Approved stage infrastructure" in page.get_by_test_id("flash").inner_text()
        page.get_by_test_id("signoff-link").click()
        page.wait_for_url("**/ui/rollouts/ux_updates/signoff")
        row = page.get_by_test_id("signoff").locator("tr[data-stage=infrastructure]")
        text = row.inner_text()
        assert "pat (pm)" in text
        assert "deploy window agreed with on-call" in text
        blank = page.get_by_test_id("signoff").locator("tr[data-stage=admin-canary]")
        assert "____" in blank.inner_text()
        assert "DynamoDB tables created" in page.get_by_test_id("signoff-checklist").inner_text()
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()
        assert page.get_by_test_id("signoff").is_visible()
        page.goto("/ui/inbox")
        waits = page.get_by_test_id("inbox").locator("[data-rollout=ux_updates]").inner_text()
        assert "approval by pm" not in waits  # given; the checklist still waits
        assert "checklist" in waits


class TestFlagEmergencies:
    """Clearing every override and the kill switch each list who is affected first."""

    def test_clear_all_overrides(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page()
        log_in(page, dashboard.people.admin, "/ui/flags/awf_bundle")
        page.get_by_test_id("clear-all-prod").click()
        page.wait_for_url("**/ui/flags/awf_bundle/prod/emergency/clear-overrides")
        affected = page.get_by_test_id("affected").inner_text()
        assert "user user-123" in affected
        assert "awf-override.ts --user user-123 --enable" in affected
        assert "session session-456" in affected
        assert "pinned to off" in affected
        # A running plan controls the flag: the preview names who loses it, and the
        # change needs the explicit "change it anyway" box (forced drift holds the rollout).
        assert "user=user-123" in page.get_by_test_id("audience-loses").inner_text()
        assert "awf-phase7.yaml" in page.get_by_test_id("confirm-drift").inner_text()
        page.get_by_test_id("confirm-force").check()
        with page.expect_navigation():
            page.get_by_test_id("emergency-confirm").click()
        assert "Cleared every override of awf_bundle in prod" in (
            page.get_by_test_id("flash").inner_text()
        )
        flag = flag_service.get_flag(dashboard.store, "awf_bundle").flag
        assert flag.state("prod").overrides == ()
        assert plan_rollouts.get_rollout(dashboard.store, "awf_bundle").phase == "paused"
        entry = audit_service.recent(dashboard.store, limit=1, entity="flag:awf_bundle")[0]
        assert (entry.actor, entry.action) == ("alice", "override.clear_all")

    def test_kill_switch_lists_everyone(self, open_page: PageFactory, dashboard: Dashboard) -> None:
        page = open_page(phone=True)
        log_in(page, dashboard.people.admin, "/ui/flags/one_page_checkout")
        page.get_by_test_id("kill-prod").click()
        page.wait_for_url("**/emergency/kill")
        affected = page.get_by_test_id("affected").inner_text()
        assert "10 % of users (sticky on user)" in affected
        assert "everyone else in prod" in affected
        assert "the safe default: off" in affected
        assert page.get_by_test_id("drift-warning").count() == 0
        with page.expect_navigation():
            page.get_by_test_id("emergency-confirm").click()
        assert "off (kill switch engaged)" in page.get_by_test_id("flash").inner_text()
        flag = flag_service.get_flag(dashboard.store, "one_page_checkout").flag
        assert not flag.state("prod").enabled
        page.goto("/ui/flags/one_page_checkout/prod/emergency/kill")
        assert "already engaged" in page.get_by_test_id("affected-none").inner_text()
