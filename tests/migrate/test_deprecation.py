"""Old commands: run, warn, redirect, refuse — as the plan's stage says."""

from __future__ import annotations

import logging

import pytest

from phased.core.compare import DeprecationPhase, deprecation_at
from phased.errors import DeprecatedCommandError
from phased.migrate.deprecation import Deprecation

W, R, X = DeprecationPhase.WARN, DeprecationPhase.REDIRECT, DeprecationPhase.REMOVED


def handle(phase: str | None) -> Deprecation:
    return Deprecation(
        None,
        "unified_pipeline",
        old="process-issues",
        new="process-pipeline --stage preparation",
        guide="docs/05-migration-strategy.md",
        removed_in="2.0",
        phase=phase,
    )


class TestPhases:
    """The latest phase set at or before the stage in force wins; none set is active."""

    def test_deprecation_at(self) -> None:
        phases = [None, W, None, R, X]
        assert [deprecation_at(phases, i).value for i in range(5)] == [
            "active",
            "warn",
            "warn",
            "redirect",
            "removed",
        ]


class TestDeprecation:
    """Seed 004's steps: warnings in week 5, redirects in week 6, removal in week 7."""

    def test_active_runs_the_old_command(self) -> None:
        assert handle(None).run(legacy=lambda: "old", redirect=lambda: "new") == "old"

    def test_warn(self, caplog: pytest.LogCaptureFixture) -> None:
        with pytest.warns(DeprecationWarning, match="Please migrate to: process-pipeline"):
            out = handle("warn").run(legacy=lambda: "old", redirect=lambda: "new")
        assert out == "old"
        assert "will be removed in version 2.0" in caplog.text

    def test_redirect(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="phased.deprecation")
        assert handle("redirect").run(legacy=lambda: "old", redirect=lambda: "new") == "new"
        assert "redirecting to process-pipeline --stage preparation" in caplog.text
        with pytest.raises(DeprecatedCommandError, match="no redirect was given"):
            handle("redirect").run(legacy=lambda: "old")

    def test_removed_runs_nothing(self) -> None:
        ran: list[str] = []
        with pytest.raises(DeprecatedCommandError) as info:
            handle("removed").run(
                legacy=lambda: ran.append("old"), redirect=lambda: ran.append("new")
            )
        assert ran == []
        assert str(info.value).startswith("command: The 'process-issues' command has been removed.")
        assert "Migration guide: docs/05-migration-strategy.md" in str(info.value)
