"""The rollout page lists old/new mismatches; a person marks one "new behaviour is correct"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phased.service import audit as audit_service
from phased.service import compare as compare_service
from phased.service import flags as flag_service
from phased.service import plan_rollouts as pr

from .test_pages import Browser, _field

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

PLAN = """\
flag: unified_pipeline
environment: prod
stages:
  - {name: parallel, audience: 20, compare: shadow}
  - {name: full, audience: 100}
"""


class TestMismatchesOnTheRolloutPage:
    """Samples are shown with their diff; resolving needs CSRF, the role and a note; audited."""

    def test_list_and_resolve(self, start_server: ServerFactory) -> None:
        server: RunningServer = start_server()
        store = server.store
        flag_service.create_flag(store, actor="setup", key="unified_pipeline")
        pr.apply_plan(store, actor="setup", text=PLAN)
        mid = compare_service.record_mismatch(
            store,
            {
                "flag": "unified_pipeline",
                "environment": "prod",
                "stage": "parallel",
                "mode": "shadow",
                "context": {"user": "issue-9"},
                "old": ["bug"],
                "new": ["bug", "dup"],
                "diff": ['+ [1]: "dup"'],
            },
        )
        browser = Browser(server.url)
        try:
            browser.login(server.admin_secret)
            page = browser.http.get("/ui/rollouts/unified_pipeline")
            assert page.status_code == 200
            assert f'data-testid="resolve-{mid}"' in page.text
            assert "+ [1]: &#34;dup&#34;" in page.text or '+ [1]: "dup"' in page.text
            form = {
                "csrf": _field(page.text, "csrf"),
                "note": "dedup is intended",
                "confirm": "yes",
            }
            done = browser.post(f"/ui/rollouts/unified_pipeline/mismatches/{mid}/resolve", form)
            assert done.status_code in (302, 303)
            assert compare_service.list_mismatches(store, "unified_pipeline") == []
            entry = audit_service.recent(store, action="compare.resolve")[0]
            assert (entry.actor, entry.details["note"]) == ("root", "dedup is intended")
            after = browser.http.get("/ui/rollouts/unified_pipeline")
            assert "No open mismatch between the old and the new path." in after.text
        finally:
            browser.http.close()
