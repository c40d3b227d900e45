"""Stage labels on the charts never overlap and never run past the plot; the exposure chart steps."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from phased.core.summary import StepPoint
from phased.server.ui.charts import CHAR_WIDTH, render_exposure, stage_marks

LEFT, RIGHT = 52.0, 392.0
LABEL = re.compile(r'<text class="stage-label" x="([\d.]+)" y="(-?[\d.]+)">([^<]*)</text>')

marks_st = st.lists(
    st.tuples(
        st.floats(min_value=LEFT, max_value=RIGHT),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=24),
    ),
    max_size=12,
).map(sorted)


class TestStageMarks:
    """Whatever the stages and where they start, labels fit and keep apart."""

    @given(marks_st)
    def test_no_overlap_no_clip(self, marks: list[tuple[float, str]]) -> None:
        svg = "".join(stage_marks(marks, 18, 150, LEFT, RIGHT))
        placed = [(float(x), float(y), len(name)) for x, y, name in LABEL.findall(svg)]
        for x, _, n in placed:
            assert x >= LEFT - 0.01
            assert x + n * CHAR_WIDTH <= RIGHT + 0.5
        for row in {y for _, y, _ in placed}:
            spans = sorted((x, x + n * CHAR_WIDTH) for x, y, n in placed if y == row)
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert start >= end
        assert svg.count('class="stage-mark"') == len(marks)  # every boundary is drawn

    def test_label_near_the_right_edge_flips_left(self) -> None:
        svg = "".join(stage_marks([(RIGHT - 5, "general-availability")], 18, 150, LEFT, RIGHT))
        x = float(LABEL.findall(svg)[0][0])
        assert x + len("general-availability") * CHAR_WIDTH <= RIGHT


class TestExposure:
    """The share of users steps up at each stage and drops to 0 % after a rollback."""

    def test_steps(self) -> None:
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        steps = [
            StepPoint(t0, 5, "canary-5", "5 % of users in prod"),
            StepPoint(t0 + timedelta(days=2), 25, "canary-25", "25 % of users in prod"),
            StepPoint(t0 + timedelta(days=3), 0, "rolled back", "nobody"),
        ]
        svg = str(render_exposure(steps, t0 + timedelta(days=4)))
        assert "Share of users: now 0 %" in svg
        points = re.search(r'class="value step" fill="none" points="([^"]+)"', svg)
        assert points is not None
        ys = [float(p.split(",")[1]) for p in points.group(1).split()]
        assert min(ys) < ys[0]  # 25 % is drawn higher than 5 %
        assert ys[-1] > ys[0]  # and 0 % lower than 5 %
        assert "style=" not in svg
        assert render_exposure([], t0) == ""
