"""The web source against a real local HTTP server, and its JSONPath subset."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.jsonpath import JsonPathError, as_number, find, parse_jsonpath
from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.sources.web import WebSource
from sources.conftest import Answer, FakeApp, free_port


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def web(http: httpx.Client, url: str, **kw: object) -> WebSource:
    config = SourceConfig.model_validate({"kind": "web", "address": url, **kw})
    return WebSource("api", config, http=http)


def ask(src: WebSource, query: str, jsonpath: str | None = "$.data.value") -> float:
    return src.query(
        SourceQuery(query=query, now=datetime.now(UTC), window_seconds=300, jsonpath=jsonpath)
    )


class TestGetAndPost:
    """GET a path, or POST the query as a JSON body; headers come from the source."""

    def test_get_reads_the_jsonpath(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(body={"data": {"value": 0.031}})
        src = web(http, app.url, headers={"Authorization": "Bearer s3cr3t-token-1234"})
        assert ask(src, "/stats?flag=f&arm=candidate") == pytest.approx(0.031)
        assert app.seen[-1].method == "GET"
        assert app.seen[-1].path == "/stats?flag=f&arm=candidate"
        assert app.seen[-1].headers["Authorization"] == "Bearer s3cr3t-token-1234"

    def test_post_sends_the_query_as_body(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/api/query"] = Answer(body={"series": [{"p95": "812.5"}]})
        src = web(http, app.url, method="POST", path="/api/query", jsonpath="$.series[-1].p95")
        assert ask(src, '{"flag": "f", "arm": "control"}', jsonpath=None) == 812.5
        assert app.seen[-1].body == {"flag": "f", "arm": "control"}

    def test_post_body_must_be_json(self, app: FakeApp, http: httpx.Client) -> None:
        src = web(http, app.url, method="POST", path="/q")
        with pytest.raises(SourceQueryError, match="must be JSON"):
            ask(src, "not json")


class TestBadAnswers:
    """Every way of not getting a number is an error with the provider's message."""

    def test_jsonpath_finds_nothing(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(body={"data": {"other": 1}})
        with pytest.raises(SourceQueryError, match=r"\$.data.value finds nothing.*keys: other"):
            ask(web(http, app.url), "/stats")

    def test_not_a_number(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(body={"data": {"value": "n/a"}})
        with pytest.raises(SourceQueryError, match="found 'n/a', not a number"):
            ask(web(http, app.url), "/stats")

    def test_http_error_status(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(status=503, body={"error": "maintenance"})
        with pytest.raises(SourceQueryError, match="answered 503"):
            ask(web(http, app.url), "/stats")

    def test_not_json(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(raw=b"<html>login</html>")
        with pytest.raises(SourceQueryError, match="not JSON"):
            ask(web(http, app.url), "/stats")

    def test_slow_is_a_timeout(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(body={"data": {"value": 1}}, delay=1.0)
        with pytest.raises(SourceQueryError, match=r"no answer .* within 0.2 s"):
            ask(web(http, app.url, timeout_seconds=0.2), "/stats")

    def test_down(self, http: httpx.Client) -> None:
        with pytest.raises(SourceQueryError, match="could not reach"):
            ask(web(http, f"http://127.0.0.1:{free_port()}"), "/stats")

    def test_secret_in_the_answer_is_redacted(self, app: FakeApp, http: httpx.Client) -> None:
        app.answers["/stats"] = Answer(
            status=401, body={"detail": "bad token ghp_abcdefghijklmnopqrstuvwxyz12"}
        )
        with pytest.raises(SourceQueryError) as err:
            ask(web(http, app.url), "/stats")
        assert "abcdefghijklmnopqrstuvwxyz12" not in str(err.value)


class TestJsonPath:
    """The supported subset, and clear refusals."""

    def test_steps(self) -> None:
        assert parse_jsonpath("$.a['b-c'][0].d[-1]") == ["a", "b-c", 0, "d", -1]
        assert find({"a": [1, {"b": 2}]}, "$.a[1].b") == 2
        assert find(5, "$") == 5

    @pytest.mark.parametrize("bad", ["a.b", "$..a", "$.a[*]", "$[?(@.x)]"])
    def test_unsupported_is_refused(self, bad: str) -> None:
        with pytest.raises(JsonPathError):
            parse_jsonpath(bad)

    def test_numbers(self) -> None:
        assert as_number("1e3", "$") == 1000.0
        assert as_number(True, "$") == 1.0
        with pytest.raises(JsonPathError):
            as_number(None, "$")

    @given(
        st.recursive(
            st.integers() | st.text(max_size=5),
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), c, max_size=3)
            ),
            max_leaves=10,
        )
    )
    def test_find_never_raises_anything_but_jsonpath_error(self, doc: object) -> None:
        for path in ("$.a", "$[0]", "$.a[0].b", "$['c']"):
            with contextlib.suppress(JsonPathError):
                find(doc, path)
