"""The alerts YAML file: channels, routing, windows, retries, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from phased.alerts import AlertWorker, MemoryQueue, Severity, load_alerts_config
from phased.alerts.config import parse_alerts_config
from phased.errors import ConfigurationError

EXAMPLE = """\
dedup_window_seconds: 120
retry: {max_attempts: 3, base_delay_seconds: 1, max_delay_seconds: 10}
channels:
  ops:
    kind: discord
    url: ${DISCORD_URL}
    severities: [critical, error]
    rate_per_minute: 10
    burst: 2
  team:
    kind: slack
    url: https://hooks.slack.com/services/T0/B0/X
  hook:
    kind: webhook
    url: https://example.com/hook
    headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
  logs:
    kind: log
"""


class TestLoad:
    """A valid file loads, with ${VAR} taken from the environment."""

    def test_example(self, tmp_path: Path) -> None:
        path = tmp_path / "alerts.yaml"
        path.write_text(EXAMPLE)
        env = {"DISCORD_URL": "https://discord.com/api/webhooks/1/abc", "HOOK_TOKEN": "tok"}
        config = load_alerts_config(path, environ=env)
        assert config.dedup_window_seconds == 120
        assert config.group_window == 120
        assert config.retry.max_attempts == 3
        assert config.channels["ops"].url == env["DISCORD_URL"]
        assert config.channels["ops"].severities == (Severity.CRITICAL, Severity.ERROR)
        assert config.channels["team"].severities == tuple(Severity)
        assert config.channels["hook"].headers == {"Authorization": "Bearer tok"}

    def test_defaults(self) -> None:
        config = parse_alerts_config({})
        assert config.dedup_window_seconds == 300
        assert config.channels == {}

    def test_backoff(self) -> None:
        retry = parse_alerts_config({"retry": {"base_delay_seconds": 2, "max_delay_seconds": 10}})
        assert [retry.retry.delay(n) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


class TestErrors:
    """Bad files are refused with the field, the value and the fix."""

    def test_unknown_kind_lists_valid_kinds(self) -> None:
        with pytest.raises(ConfigurationError) as err:
            parse_alerts_config({"channels": {"x": {"kind": "pagerduty"}}})
        assert str(err.value) == (
            "channels.x.kind: unknown channel kind 'pagerduty'; "
            "valid kinds: discord, log, slack, webhook"
        )

    def test_missing_url(self) -> None:
        with pytest.raises(ConfigurationError, match=r"channels\.x\.url: a discord channel needs"):
            parse_alerts_config({"channels": {"x": {"kind": "discord"}}})

    def test_missing_variable(self) -> None:
        data = {"channels": {"x": {"kind": "slack", "url": "${NOPE}"}}}
        with pytest.raises(ConfigurationError, match=r"channels\.x\.url: refers to \$\{NOPE\}"):
            parse_alerts_config(data, environ={})

    def test_bad_severity(self) -> None:
        data = {"channels": {"x": {"kind": "log", "severities": ["panic"]}}}
        with pytest.raises(ConfigurationError, match=r"channels\.x\.severities\.0.*'panic'"):
            parse_alerts_config(data)

    def test_unknown_field(self) -> None:
        with pytest.raises(ConfigurationError, match="dedup_window"):
            parse_alerts_config({"dedup_window": 5})

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        path = tmp_path / "a.yaml"
        path.write_text("- a\n- b\n")
        with pytest.raises(ConfigurationError, match="must be a mapping"):
            load_alerts_config(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="cannot read alerts config"):
            load_alerts_config(tmp_path / "nope.yaml")


class TestEnableAlerts:
    """ENABLE_ALERTS with no channel is a configuration error at start; off is fine."""

    def test_enabled_without_channel(self) -> None:
        with pytest.raises(ConfigurationError, match="ENABLE_ALERTS is on but no alert channel"):
            AlertWorker(parse_alerts_config({}), MemoryQueue(), enabled=True)

    def test_disabled_without_channel(self) -> None:
        AlertWorker(parse_alerts_config({}), MemoryQueue(), enabled=False)
