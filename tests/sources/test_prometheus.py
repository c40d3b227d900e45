"""The prometheus source against a real Prometheus scraping a real /metrics endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.sources.prometheus import PrometheusSource
from sources.conftest import PrometheusServer, free_port

RATE = 'sum(app_errors_total{arm="candidate"}) / sum(app_requests_total{arm="candidate"})'


_http = httpx.Client()


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    _http.close()


def source(url: str, **kw: object) -> PrometheusSource:
    config = SourceConfig.model_validate({"kind": "prometheus", "address": url, **kw})
    return PrometheusSource("prom", config, http=_http)


def ask(src: PrometheusSource, query: str, window: float = 60) -> float:
    return src.query(SourceQuery(query=query, now=datetime.now(UTC), window_seconds=window))


@pytest.fixture(scope="module")
def scraped(prometheus: PrometheusServer) -> PrometheusServer:
    prometheus.target.metrics.update(
        {
            'app_requests_total{arm="candidate"}': 1000,
            'app_errors_total{arm="candidate"}': 20,
            'app_requests_total{arm="control"}': 1000,
            'app_errors_total{arm="control"}': 10,
            "app_duration_seconds": 12,
        }
    )
    prometheus.wait_for('sum(app_errors_total{arm="candidate"})', 20)
    prometheus.wait_for("app_duration_seconds", 12)
    return prometheus


class TestInstantQueries:
    """PromQL instant queries: one series, one number; anything else is an error."""

    def test_one_series_is_the_value(self, scraped: PrometheusServer) -> None:
        assert ask(source(scraped.url), RATE) == pytest.approx(0.02)

    def test_arms_selected_by_label(self, scraped: PrometheusServer) -> None:
        control = RATE.replace("candidate", "control")
        assert ask(source(scraped.url), control) == pytest.approx(0.01)

    def test_no_series_is_no_data(self, scraped: PrometheusServer) -> None:
        with pytest.raises(SourceQueryError, match="no data"):
            ask(source(scraped.url), "app_nothing_total")

    def test_several_series_must_be_aggregated(self, scraped: PrometheusServer) -> None:
        with pytest.raises(SourceQueryError, match="returned 2 series"):
            ask(source(scraped.url), "app_requests_total")

    def test_a_query_the_server_rejects_names_the_error(self, scraped: PrometheusServer) -> None:
        with pytest.raises(SourceQueryError, match=r"refused the query \(bad_data\)"):
            ask(source(scraped.url), "sum(rate(app_requests_total[5m]")

    def test_nan_is_no_data(self, scraped: PrometheusServer) -> None:
        with pytest.raises(SourceQueryError, match="NaN"):
            ask(source(scraped.url), "sum(app_nothing_total) / 0 or vector(0) / 0")


class TestRangeQueries:
    """Range queries over {{interval}}, reduced to one number."""

    def test_max_and_last_over_the_window(self, scraped: PrometheusServer) -> None:
        scraped.target.metrics["app_duration_seconds"] = 40
        scraped.wait_for("app_duration_seconds", 40)
        peak = source(scraped.url, query_type="range", step_seconds=1, reduce="max")
        assert ask(peak, "app_duration_seconds", window=30) == 40
        low = source(scraped.url, query_type="range", step_seconds=1, reduce="min")
        assert ask(low, "app_duration_seconds", window=30) == 12
        last = source(scraped.url, query_type="range", step_seconds=1, reduce="last")
        assert ask(last, "app_duration_seconds", window=30) == 40


class TestOutages:
    """A Prometheus that is down or slow is an error with a message, never a number."""

    def test_down(self) -> None:
        with pytest.raises(SourceQueryError, match="could not reach"):
            ask(source(f"http://127.0.0.1:{free_port()}"), "up")

    def test_credentials_never_in_messages(self) -> None:
        src = source(
            f"http://user:hunter2secret@127.0.0.1:{free_port()}",
            headers={"Authorization": "Bearer abcdefgh12345678"},
        )
        with pytest.raises(SourceQueryError) as err:
            ask(src, "up")
        assert "hunter2secret" not in str(err.value)
        assert "abcdefgh12345678" not in str(err.value)
