"""Structured JSON logging: the fields and levels of seed 001, context isolation."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from datetime import datetime, timedelta

import pytest

from phased.errors import ConfigurationError
from phased.obs import clear_context, configure_logging, context, get_logger, set_context
from phased.obs.log import FIXED_FIELDS
from phased.settings import Settings

from .conftest import ReadLines


def handle_diagnose_command() -> None:
    get_logger().info("Triggered diagnose workflow")


class TestFields:
    """Every line has the seed's fields, in order, with the values a query relies on."""

    def test_seed_example(self, read_lines: ReadLines) -> None:
        set_context(
            trace_id="abc123de-456f",
            correlation_id="workflow-run-123",
            user_id="discord-user-123",
            cmd="/diagnose",
        )
        handle_diagnose_command()
        (line,) = read_lines()
        assert list(line)[: len(FIXED_FIELDS)] == list(FIXED_FIELDS)
        assert line["level"] == "info"
        assert line["service"] == "phased"
        assert line["fn"] == "handle_diagnose_command"
        assert line["trace_id"] == "abc123de-456f"
        assert line["correlation_id"] == "workflow-run-123"
        assert line["user_id"] == "discord-user-123"
        assert line["cmd"] == "/diagnose"
        assert line["msg"] == "Triggered diagnose workflow"

    def test_ts_is_iso_8601_utc(self, read_lines: ReadLines) -> None:
        get_logger().info("x")
        ts = datetime.fromisoformat(read_lines()[0]["ts"])
        assert ts.utcoffset() == timedelta(0)

    def test_unset_context_fields_are_null(self, read_lines: ReadLines) -> None:
        get_logger().info("x")
        line = read_lines()[0]
        assert all(line[name] is None for name in ("trace_id", "user_id", "cmd"))

    def test_extra_fields_follow(self, read_lines: ReadLines) -> None:
        get_logger().info("x", flag="checkout", stage=2)
        line = read_lines()[0]
        assert list(line)[-2:] == ["flag", "stage"]

    def test_service_from_settings(self, log_buffer: io.StringIO) -> None:
        configure_logging(Settings(service="orchestrator"), stream=log_buffer)
        get_logger().info("x")
        assert json.loads(log_buffer.getvalue())["service"] == "orchestrator"


class TestLevels:
    """Levels are debug, info, warn (exactly) and error, filtered by the configured level."""

    @pytest.mark.parametrize(
        ("method", "level"),
        [
            ("debug", "debug"),
            ("info", "info"),
            ("warning", "warn"),
            ("warn", "warn"),
            ("error", "error"),
            ("critical", "error"),
        ],
    )
    def test_level_names(self, read_lines: ReadLines, method: str, level: str) -> None:
        getattr(get_logger(), method)("x")
        assert read_lines()[0]["level"] == level

    def test_stdlib_warning_is_warn(self, read_lines: ReadLines) -> None:
        logging.getLogger("thirdparty").warning("disk %s", "low")
        line = read_lines()[0]
        assert (line["level"], line["msg"]) == ("warn", "disk low")

    def test_exception_is_error_with_traceback(self, read_lines: ReadLines) -> None:
        try:
            _ = 1 / 0
        except ZeroDivisionError:
            get_logger().exception("failed")
        line = read_lines()[0]
        assert line["level"] == "error"
        assert "ZeroDivisionError" in line["exception"]

    def test_filtering(self, log_buffer: io.StringIO) -> None:
        configure_logging(Settings(log_level="warn"), stream=log_buffer)
        get_logger().info("hidden")
        get_logger().warning("shown")
        assert [json.loads(s)["msg"] for s in log_buffer.getvalue().splitlines()] == ["shown"]

    def test_unknown_level_names_the_setting(self) -> None:
        with pytest.raises(ConfigurationError, match="PHASED_LOG_LEVEL"):
            configure_logging(Settings(log_level="loud"), stream=io.StringIO())


class TestRedactionInLogs:
    """Secrets never reach the log line, whether in fields, the message or a traceback."""

    def test_secret_field(self, read_lines: ReadLines) -> None:
        get_logger().info("x", api_token="secret12345678")
        assert read_lines()[0]["api_token"] == "***5678"

    def test_secret_in_message(self, read_lines: ReadLines) -> None:
        get_logger().info("calling with Bearer abcd1234efgh5678 and password=hunter2hunter2")
        line = read_lines()[0]["msg"]
        assert "abcd1234" not in line
        assert "hunter2hunter2" not in line

    def test_secret_in_exception(self, read_lines: ReadLines) -> None:
        token = "ghp_" + "x" * 36
        try:
            raise RuntimeError(f"GitHub refused {token}")
        except RuntimeError:
            get_logger().exception("failed")
        assert token not in read_lines()[0]["exception"]


class TestContext:
    """Context fields belong to one thread or asyncio task and never leak to another."""

    def test_clear(self, read_lines: ReadLines) -> None:
        set_context(trace_id="t1", cmd="/x")
        clear_context()
        get_logger().info("x")
        assert read_lines()[0]["trace_id"] is None

    def test_context_block_restores(self, read_lines: ReadLines) -> None:
        set_context(trace_id="outer")
        with context(trace_id="inner"):
            get_logger().info("in")
        get_logger().info("out")
        assert [line["trace_id"] for line in read_lines()] == ["inner", "outer"]

    def test_threads(self, read_lines: ReadLines) -> None:
        barrier = threading.Barrier(8)

        def work(i: int) -> None:
            set_context(trace_id=f"t{i}", user_id=f"u{i}")
            barrier.wait()  # every thread has bound its context before any logs
            for _ in range(20):
                get_logger().info("step", worker=i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lines = read_lines()
        assert len(lines) == 160
        assert all(line["trace_id"] == f"t{line['worker']}" for line in lines)
        assert all(line["user_id"] == f"u{line['worker']}" for line in lines)

    def test_asyncio_tasks(self, read_lines: ReadLines) -> None:
        async def handle(i: int) -> None:
            set_context(trace_id=f"t{i}")
            for _ in range(5):
                await asyncio.sleep(0)  # interleave the tasks
                get_logger().info("step", task=i)

        async def main() -> None:
            set_context(trace_id="parent")
            await asyncio.gather(*(handle(i) for i in range(5)))
            get_logger().info("after")

        asyncio.run(main())
        lines = [line for line in read_lines() if line["msg"] in ("step", "after")]
        assert len(lines) == 26
        assert all(line["trace_id"] == f"t{line['task']}" for line in lines[:-1])
        assert lines[-1]["trace_id"] == "parent"


class TestConsoleMode:
    """With JSON logging off, lines are readable text, still redacted."""

    def test_console(self, log_buffer: io.StringIO) -> None:
        configure_logging(Settings(json_logging=False), stream=log_buffer)
        get_logger().warning("disk low", password="hunter22hunter22")
        text = log_buffer.getvalue()
        assert "disk low" in text
        assert "warn" in text
        assert "hunter22hunter22" not in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)


module_logger = get_logger("phased.test")


class TestModuleLevelLogger:
    """A logger created at import time follows a later configure_logging()."""

    def test_named(self, read_lines: ReadLines) -> None:
        module_logger.info("x")
        assert read_lines()[0]["logger"] == "phased.test"
