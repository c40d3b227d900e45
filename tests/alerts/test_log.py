"""The log channel writes each alert as one structured line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from phased.alerts import Alert, Severity
from phased.alerts.log import LogNotifier
from phased.obs import configure_logging
from phased.settings import Settings


@pytest.fixture
def buffer() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(Settings(), stream=out)
    yield out
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)


class TestLogChannel:
    """Critical and error alerts log at error, warnings at warn."""

    @pytest.mark.parametrize(
        ("severity", "level"),
        [(Severity.CRITICAL, "error"), (Severity.ERROR, "error"), (Severity.WARNING, "warn")],
    )
    def test_levels(self, buffer: io.StringIO, severity: Severity, level: str) -> None:
        LogNotifier("logs").post(Alert(severity=severity, message="m", flag="f", rule="r"))
        line = json.loads(buffer.getvalue())
        assert (line["level"], line["msg"], line["alert_severity"]) == (level, "m", severity.value)
        assert (line["flag"], line["rule"], line["channel"]) == ("f", "r", "logs")
