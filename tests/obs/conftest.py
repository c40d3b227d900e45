"""Fixtures for the observability tests: logging captured into a buffer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from phased.obs import clear_context, configure_logging
from phased.settings import Settings

ReadLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """Configure JSON logging at debug level into a buffer; undo afterwards."""
    buffer = io.StringIO()
    configure_logging(Settings(), stream=buffer, level="debug", json=True)
    clear_context()
    yield buffer
    clear_context()
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_phased", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


@pytest.fixture
def read_lines(log_buffer: io.StringIO) -> ReadLines:
    """Parse every line written so far as JSON."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log_buffer.getvalue().splitlines() if line]

    return read
