"""Conditions: the expression language people type, and what each operator matches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.conditions import (
    AllOf,
    Compare,
    attributes,
    compile_condition,
    parse_condition,
    parse_expression,
    render,
)
from phased.errors import ValidationError


def matches(spec: object, **ctx: Any) -> bool:
    return compile_condition(parse_condition(spec))(ctx)


class TestParse:
    """Expressions read the way people write them."""

    def test_list(self) -> None:
        assert parse_expression("role in [admin, pm]") == Compare("role", "in", ("admin", "pm"))

    def test_quoted_and_numbers(self) -> None:
        assert parse_expression('name eq "a b, c"') == Compare("name", "eq", "a b, c")
        assert parse_expression("age >= 30") == Compare("age", "gte", 30)
        assert parse_expression("role not in [guest]") == Compare("role", "not_in", ("guest",))

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("role", "write 'ATTRIBUTE OPERATOR VALUE'"),
            ("role like admin", "unknown operator 'like'"),
            ("age gt young", "needs a number"),
            ("role in [admin", "unclosed list"),
            ("v semver_gte banana", "needs a version"),
            ("role eq [a, b]", "takes one value"),
        ],
    )
    def test_errors_name_the_problem(self, text: str, fragment: str) -> None:
        with pytest.raises(ValidationError, match="where") as err:
            parse_expression(text)
        assert fragment in str(err.value)

    def test_combinators(self) -> None:
        cond = parse_condition({"any": ["role eq admin", {"not": "labels contains x"}]})
        assert attributes(cond) == {"role", "labels"}
        assert isinstance(parse_condition(["a eq 1", "b eq 2"]), AllOf)


scalars = st.one_of(
    st.text(alphabet="abc xyz-_,[]'\"0123.", max_size=8),
    st.integers(-1000, 1000),
    st.booleans(),
)


class TestRenderRoundTrip:
    """What is rendered parses back to the same condition (stored form == written form)."""

    @given(
        attr=st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
        op=st.sampled_from(["eq", "in", "not_in", "contains", "starts_with", "ends_with"]),
        values=st.lists(scalars, min_size=1, max_size=3),
    )
    def test_round_trip(self, attr: str, op: str, values: list[Any]) -> None:
        value = tuple(values) if op in ("in", "not_in") else values[0]
        cond = Compare(attr, op, value)
        assert parse_condition(render(cond)) == cond


class TestOperators:
    """Each operator's meaning; a missing attribute never matches."""

    def test_in_matches_numbers_given_as_text(self) -> None:
        assert matches("tier in [1, 2]", tier="2")
        assert matches("beta eq true", beta="true")
        assert matches("beta eq true", beta=True)

    def test_contains_on_lists_and_strings(self) -> None:
        assert matches("labels contains beta-test", labels=["x", "beta-test"])
        assert not matches("labels contains beta-test", labels=["x"])
        assert matches("email contains @acme", email="a@acme.com")

    def test_affixes_and_numbers(self) -> None:
        assert matches("email ends_with @acme.com", email="x@acme.com")
        assert matches("user starts_with admin-", user="admin-7")
        assert matches("age gt 30", age="31")
        assert not matches("age gt 30", age="thirty")

    def test_semver(self) -> None:
        assert matches("app semver_gte 2.4.0", app="2.10.1")
        assert not matches("app semver_gte 2.4.0", app="2.3.9")
        assert matches("app semver_gte 2.4", app="v2.4.0-beta")

    def test_missing_attribute_never_matches(self) -> None:
        for spec in ("role in [a]", "role not_in [a]", "age lt 5", "labels contains x"):
            assert not matches(spec)
        assert matches({"not": "role in [a]"})

    def test_unhashable_value_is_not_a_member(self) -> None:
        assert not matches("role in [a]", role=["a"])
        assert matches("role not_in [a]", role=["a"])
