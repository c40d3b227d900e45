"""History as a story: runs of holds fold into one line, nothing else is lost or moved."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from phased.core.story import StoryLine, collapse

KINDS = ["hold", "advance", "approve", "pause", "rollback", "check", "apply"]


@dataclass(frozen=True)
class E:
    n: int
    kind: str
    stage: str


def story(entries: list[E]) -> list[StoryLine[E]]:
    return collapse(entries, kind=lambda e: e.kind, stage=lambda e: e.stage)


entries_st = st.lists(
    st.tuples(st.sampled_from(KINDS), st.sampled_from(["a", "b"])), max_size=60
).map(lambda xs: [E(i, k, s) for i, (k, s) in enumerate(xs)])


class TestCollapse:
    """Properties every story keeps, and the obvious example."""

    def test_example(self) -> None:
        es = [E(0, "apply", "a"), *[E(i, "hold", "a") for i in range(1, 25)], E(25, "advance", "b")]
        lines = story(es)
        assert [(line.kind, line.count) for line in lines] == [
            ("apply", 1),
            ("hold", 24),
            ("advance", 1),
        ]
        assert (lines[1].first.n, lines[1].last.n) == (1, 24)

    @given(entries_st)
    def test_counts_add_up(self, es: list[E]) -> None:
        assert sum(line.count for line in story(es)) == len(es)

    @given(entries_st)
    def test_never_drops_or_reorders_a_non_hold(self, es: list[E]) -> None:
        kept = [line.first for line in story(es) if line.kind != "hold"]
        assert kept == [e for e in es if e.kind != "hold"]
        assert all(line.count == 1 for line in story(es) if line.kind != "hold")

    @given(entries_st)
    def test_holds_fold_only_within_a_run_at_one_stage(self, es: list[E]) -> None:
        lines = story(es)
        for before, after in itertools.pairwise(lines):
            assert not (
                before.kind == after.kind == "hold" and before.last.stage == after.first.stage
            )
        for line in lines:
            covered = es[line.first.n : line.last.n + 1]
            assert len(covered) == line.count
            assert all(e.stage == line.first.stage for e in covered)
