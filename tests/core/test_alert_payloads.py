"""Inbound alert payloads: Alertmanager's webhook, Grafana's, plain JSON; anything else refused."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.core.alert_payloads import parse_alerts
from phased.errors import ValidationError

# Alertmanager's webhook payload as documented (prometheus.io, "webhook_config").
ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="LambdaErrors"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "phased",
    "groupLabels": {"alertname": "LambdaErrors"},
    "commonLabels": {"alertname": "LambdaErrors", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"flag": "bot_smoke", "function": "bot"},
            "annotations": {"summary": "Lambda errors above 5 %"},
            "startsAt": "2026-12-06T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "a1b2c3",
        },
        {
            "status": "resolved",
            "labels": {"flag": "other"},
            "annotations": {"description": "back to normal"},
            "startsAt": "2026-12-06T09:00:00Z",
            "endsAt": "2026-12-06T09:30:00Z",
            "generatorURL": "",
            "fingerprint": "d4e5f6",
        },
    ],
}

# Grafana unified alerting's webhook: Alertmanager's shape plus title/state/message/orgId.
GRAFANA = {
    "receiver": "phased",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "PipelineErrorRate", "stage": "canary"},
            "annotations": {},
            "valueString": "[ var='B' labels={} value=0.07 ]",
            "fingerprint": "f00d",
        }
    ],
    "groupLabels": {},
    "commonLabels": {"alertname": "PipelineErrorRate"},
    "title": "[FIRING:1] PipelineErrorRate",
    "state": "alerting",
    "message": "error rate 7 %",
}

GRAFANA_LEGACY = {
    "title": "[Alerting] Throughput low",
    "ruleId": 7,
    "ruleName": "Throughput low",
    "state": "alerting",
    "evalMatches": [{"value": 3, "metric": "throughput", "tags": {}}],
    "message": "pipeline throughput below 10/min",
    "tags": {"flag": "bot_smoke"},
}


class TestParseAlerts:
    """Each format becomes the same InboundAlert values."""

    def test_alertmanager_groups(self) -> None:
        first, second = parse_alerts(ALERTMANAGER)
        assert (first.status, first.name, first.format) == (
            "firing",
            "LambdaErrors",
            "alertmanager",
        )
        assert first.labels["flag"] == "bot_smoke"
        assert first.labels["severity"] == "critical"  # common labels are merged in
        assert first.summary == "Lambda errors above 5 %"
        assert (second.status, second.summary) == ("resolved", "back to normal")

    def test_grafana_unified(self) -> None:
        [alert] = parse_alerts(GRAFANA)
        assert (alert.name, alert.format, alert.status) == (
            "PipelineErrorRate",
            "grafana",
            "firing",
        )
        assert "0.07" in alert.summary

    def test_grafana_legacy(self) -> None:
        [alert] = parse_alerts(GRAFANA_LEGACY)
        assert (alert.name, alert.status, alert.labels) == (
            "Throughput low",
            "firing",
            {"flag": "bot_smoke"},
        )
        assert parse_alerts({**GRAFANA_LEGACY, "state": "ok"})[0].status == "resolved"

    def test_plain(self) -> None:
        [alert] = parse_alerts({"name": "smoke failed", "labels": {"flag": "f"}})
        assert (alert.status, alert.name, alert.format) == ("firing", "smoke failed", "plain")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ([1, 2], "body"),
            ({"status": "firing"}, "name"),
            ({"name": "x", "status": "burning"}, "status"),
            ({"alerts": [{"status": "firing", "labels": [1]}]}, "alerts[0].labels"),
            ({"alerts": ["x"]}, "alerts[0]"),
            ({**GRAFANA_LEGACY, "state": "exploded"}, "state"),
        ],
    )
    def test_bad_bodies_name_the_field(self, body: object, field: str) -> None:
        with pytest.raises(ValidationError) as err:
            parse_alerts(body)
        assert err.value.field == field

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "alerts",
                            "status",
                            "name",
                            "labels",
                            "state",
                            "ruleName",
                            "tags",
                            "commonLabels",
                            "annotations",
                            "evalMatches",
                        ]
                    ),
                    c,
                    max_size=4,
                )
            ),
            max_leaves=12,
        )
    )
    def test_never_anything_but_a_validation_error(self, body: object) -> None:
        with contextlib.suppress(ValidationError):
            parse_alerts(body)
