"""Times on the command line read durations with the plans' grammar (core/durations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from phased.errors import ValidationError
from phased.service.overrides import parse_expiry
from phased.service.times import parse_duration, parse_time

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class TestOneGrammar:
    """Every duration a plan accepts is accepted by ``--expires`` and ``--since``."""

    @pytest.mark.parametrize(
        ("text", "delta"),
        [
            ("7d", timedelta(days=7)),
            ("12h", timedelta(hours=12)),
            ("30m", timedelta(minutes=30)),
            ("2w", timedelta(weeks=2)),
            ("90s", timedelta(seconds=90)),
            ("1h30m", timedelta(hours=1, minutes=30)),
            ("1.5h", timedelta(hours=1, minutes=30)),
            (" 2d 6h ", timedelta(days=2, hours=6)),
        ],
    )
    def test_durations(self, text: str, delta: timedelta) -> None:
        """The same texts, the same lengths as in plans."""
        assert parse_duration(text) == delta
        assert parse_time(text, NOW, "since", ago=True) == NOW - delta
        assert parse_expiry(text, NOW) == NOW + delta

    def test_not_a_duration_is_a_time(self) -> None:
        """Anything else is read as an ISO 8601 time."""
        assert parse_duration("2026-12-01") is None
        assert parse_time("2026-11-30", NOW, "since", ago=True) == datetime(
            2026, 11, 30, tzinfo=UTC
        )

    def test_garbage_names_both_forms(self) -> None:
        """An unreadable value names the field and both accepted forms."""
        with pytest.raises(ValidationError, match=r"since: cannot read 'soon'.*1h30m"):
            parse_time("soon", NOW, "since", ago=True)

    def test_zero_expiry_refused(self) -> None:
        """``0m`` expires at once: refused."""
        with pytest.raises(ValidationError, match="expires at once"):
            parse_expiry("0m", NOW)
