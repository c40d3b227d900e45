"""Golden scenarios, pure parts: parsing with file:line errors, expectations, scrubbing, diffs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.golden import check_turn, diff_values, parse_scenario, scrub, text_of
from phased.core.golden.scrub import PRESETS, Scrubber
from phased.errors import SourceError

SEED_FILE = Path(__file__).parents[2] / "examples" / "goldens" / "first-meet-kiera.json"


def _error(text: str) -> str:
    with pytest.raises(SourceError) as info:
        parse_scenario(text, "g/s.yaml")
    return str(info.value)


class TestParseScenario:
    """A scenario file is read as the seed writes it; every mistake names file, line and field."""

    def test_the_seed_file_as_written(self) -> None:
        s = parse_scenario(SEED_FILE.read_text("utf-8"), str(SEED_FILE))
        assert s.name == "first-meet-kiera"
        assert s.seed == 424242  # sessionSeed is the seed
        assert len(s.turns) == 1
        assert s.turns[0].expect == {
            "mustInclude": ["glade", "eyes"],
            "choicesAtMost": 5,
            "sceneChange": True,
        }
        assert s.turns[0].line == 6

    def test_yaml_and_seed_key(self) -> None:
        s = parse_scenario("name: a\nseed: 7\nturns:\n  - input: hi\n", "a.yaml")
        assert (s.seed, s.turns[0].input, dict(s.turns[0].expect)) == (7, "hi", {})

    def test_missing_name(self) -> None:
        assert _error("turns:\n  - input: x\n").startswith("g/s.yaml:1: name: is required")

    def test_missing_input_names_the_turn_line(self) -> None:
        msg = _error("name: a\nturns:\n  - input: x\n  - expect: {mustInclude: y}\n")
        assert msg.startswith("g/s.yaml:4: turns[1].input: is required")

    def test_bad_regex_names_line_and_field(self) -> None:
        msg = _error("name: a\nturns:\n  - input: x\n    expect:\n      regex: 'a(b'\n")
        assert msg.startswith("g/s.yaml:5: turns[0].expect.regex: the regular expression 'a(b'")
        assert "does not compile" in msg

    def test_bound_must_be_a_number(self) -> None:
        msg = _error("name: a\nturns:\n  - input: x\n    expect: {choicesAtMost: many}\n")
        assert "turns[0].expect.choicesAtMost: must be a number" in msg

    def test_unknown_field_and_both_seeds(self) -> None:
        assert "turn: is not a known field" in _error("name: a\nturn: []\n")
        assert "give seed or sessionSeed" in _error(
            "name: a\nseed: 1\nsessionSeed: 2\nturns: [{input: x}]\n"
        )

    def test_empty_turns_and_bad_json(self) -> None:
        assert "turns: must be a non-empty list" in _error("name: a\nturns: []\n")
        assert "invalid YAML" in _error('{"name": "a", "turns": [}')

    def test_scrub_entries(self) -> None:
        s = parse_scenario(
            "name: a\nturns: [{input: x}]\nscrub:\n  - timestamps\n"
            "  - {pattern: 'req-\\d+', replace: '<req>'}\n  - {path: meta.id}\n",
            "a.yaml",
        )
        assert [r.path for r in s.scrubbers] == [None, None, "meta.id"]
        assert "unknown scrubber 'dates'" in _error(
            "name: a\nturns: [{input: x}]\nscrub: [dates]\n"
        )
        assert "scrub[0].pattern: the regular expression" in _error(
            "name: a\nturns: [{input: x}]\nscrub: [{pattern: '['}]\n"
        )


class TestExpectations:
    """Seed 003's keys apply to the output's text, a field's length or a field's value."""

    OUT: dict[str, Any] = {  # noqa: RUF012
        "text": "You stand in the glade; amber eyes.",
        "choices": ["a", "b", "c"],
        "sceneChange": True,
        "meta": {"tokens": 120},
    }

    def test_all_hold(self) -> None:
        expect = {
            "mustInclude": ["glade", "eyes"],
            "mustNotInclude": "dragon",
            "regex": r"amber\s+eyes",
            "mustNotMatch": "^Error",
            "choicesAtMost": 5,
            "choicesAtLeast": 3,
            "meta.tokensAtMost": 200,
            "sceneChange": True,
            "meta.tokens": 120,
        }
        assert check_turn(self.OUT, expect) == []

    def test_each_failure_names_its_key(self) -> None:
        expect = {
            "mustInclude": ["glade", "wolf"],
            "mustNotInclude": ["amber"],
            "regex": "^Kiera",
            "choicesAtMost": 2,
            "choicesAtLeast": 4,
            "sceneChange": False,
            "mood": "calm",
            "equals": "x",
        }
        failures = {f.key: f.message for f in check_turn(self.OUT, expect)}
        assert set(failures) == set(expect)
        assert failures["mustInclude"].startswith('missing ["wolf"]')
        assert failures["choicesAtMost"] == "choices length 3 > 2"
        assert failures["choicesAtLeast"] == "choices length 3 < 4"
        assert failures["sceneChange"] == "expected false, got true"
        assert "no field 'mood'" in failures["mood"]

    def test_true_is_not_one(self) -> None:
        assert check_turn({"n": 1}, {"n": True})[0].key == "n"

    def test_text_of(self) -> None:
        assert text_of("plain") == "plain"
        assert text_of({"text": "t", "x": 1}) == "t"
        assert text_of([1, "a"]) == '[1, "a"]'

    def test_plain_string_output(self) -> None:
        assert check_turn("glade and eyes", {"mustInclude": ["glade", "eyes"]}) == []
        assert check_turn("x", {"choicesAtMost": 1})[0].message.startswith("the output has no")


class TestScrub:
    """Volatile values are blanked by preset, pattern or path; the rest is untouched."""

    def test_presets_and_paths(self) -> None:
        value = {
            "at": "2026-12-06T19:45:27Z",
            "id": "0b8e5c1e-8d55-4c1b-9a0e-2d6b2f1c9b7a",
            "meta": {"req": 42, "keep": 1},
            "items": [{"id": 1}, {"id": 2}],
        }
        out = scrub(
            value,
            [
                PRESETS["timestamps"],
                PRESETS["uuids"],
                Scrubber("<r>", path="meta.req"),
                Scrubber("<i>", path="items.1.id"),
            ],
        )
        assert out == {
            "at": "<timestamp>",
            "id": "<uuid>",
            "meta": {"req": "<r>", "keep": 1},
            "items": [{"id": 1}, {"id": "<i>"}],
        }
        assert value["meta"] == {"req": 42, "keep": 1}  # a copy

    def test_absent_path_scrubs_nothing(self) -> None:
        assert scrub({"a": 1}, [Scrubber("x", path="b.c")]) == {"a": 1}

    def test_pattern(self) -> None:
        rule = Scrubber("<req>", pattern=re.compile(r"req-\d+"))
        assert scrub(["req-1 and req-22"], [rule]) == ["<req> and <req>"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


class TestDiff:
    """The diff is empty exactly when the values are equal, and names each differing path."""

    @given(json_values, json_values)
    def test_empty_iff_equal(self, a: Any, b: Any) -> None:
        same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
        assert (diff_values(a, b) == []) == same

    def test_paths(self) -> None:
        lines = diff_values(
            {"choices": ["a", "b"], "scene": True, "old": 1},
            {"choices": ["a", "c", "d"], "scene": True, "new": 2},
            "output",
        )
        assert lines == [
            '~ output.choices[1]: "b" → "c"',
            '+ output.choices[2]: "d"',
            "+ output.new: 2",
            "- output.old: 1",
        ]

    def test_multiline_strings_are_unified(self) -> None:
        lines = diff_values("a\nb\nc", "a\nB\nc", "output.text")
        assert lines[0] == "~ output.text:"
        assert "    -b" in lines
        assert "    +B" in lines

    def test_true_is_not_one_nested(self) -> None:
        assert diff_values({"a": True}, {"a": 1}) == ["~ a: true → 1"]
