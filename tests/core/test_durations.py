"""Durations read the way people write them in plans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.durations import format_duration, parse_duration


class TestDurations:
    """``30m``, ``48h``, ``5d``, ``1h30m`` parse; anything else says the format."""

    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("30m", 1800),
            ("48h", 172_800),
            ("5d", 432_000),
            ("1h30m", 5400),
            ("90s", 90),
            ("2w", 1_209_600),
        ],
    )
    def test_parse(self, text: str, seconds: int) -> None:
        assert parse_duration(text) == timedelta(seconds=seconds)

    @pytest.mark.parametrize("text", ["", "5", "five days", "5x", "-1h"])
    def test_refuse(self, text: str) -> None:
        with pytest.raises(ValueError, match="48h"):
            parse_duration(text)

    @given(st.integers(min_value=0, max_value=10**8))
    def test_round_trip(self, seconds: int) -> None:
        value = timedelta(seconds=seconds)
        assert parse_duration(format_duration(value)) == value
