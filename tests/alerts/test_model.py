"""The alert model: severities, the seed's dedup hash, the grouping key."""

from __future__ import annotations

import hashlib

import pytest

from phased.alerts import Alert, Severity


class TestSeverity:
    """Severities carry seed 001's emojis and an order."""

    @pytest.mark.parametrize(
        ("severity", "emoji"),
        [(Severity.CRITICAL, "🔴"), (Severity.ERROR, "⚠️"), (Severity.WARNING, "🟡")],
    )
    def test_emoji(self, severity: Severity, emoji: str) -> None:
        assert severity.emoji == emoji

    def test_order(self) -> None:
        assert Severity.CRITICAL.rank > Severity.ERROR.rank > Severity.WARNING.rank


class TestKeys:
    """The dedup key is a SHA-256 of severity, message and trace id; grouping uses flag+rollout+rule."""

    def test_dedup_key_is_sha256_of_the_three(self) -> None:
        alert = Alert(severity=Severity.ERROR, message="dispatch failed", trace_id="abc")
        expected = hashlib.sha256(b"error\x1fdispatch failed\x1fabc").hexdigest()
        assert alert.dedup_key == expected

    def test_other_fields_do_not_change_dedup_key(self) -> None:
        a = Alert(severity=Severity.ERROR, message="m", trace_id="t", root_cause="x")
        b = Alert(severity=Severity.ERROR, message="m", trace_id="t", root_cause="y")
        assert a.dedup_key == b.dedup_key

    @pytest.mark.parametrize(
        "change", [{"severity": Severity.CRITICAL}, {"message": "n"}, {"trace_id": "u"}]
    )
    def test_each_part_changes_dedup_key(self, change: dict[str, object]) -> None:
        base = Alert(severity=Severity.ERROR, message="m", trace_id="t")
        assert base.model_copy(update=change).dedup_key != base.dedup_key

    def test_group_key(self) -> None:
        alert = Alert(severity=Severity.ERROR, message="m", flag="checkout", rollout="r1")
        assert alert.group_key == "checkout|r1|"
        assert Alert(severity=Severity.ERROR, message="m").group_key is None
