"""A pytest plugin: run a project's golden scenarios inside its own test suite.

Installed with phased (entry point ``pytest11``), it provides the ``golden``
fixture::

    def test_goldens(golden):
        golden.test("goldens", target="myapp.turns:run_turn")      # expectations
        golden.verify("goldens", target=run_turn)                  # recordings

A failure fails the test with one line per failed expectation or difference
(scenario, turn, key). ``pytest --golden-record`` makes ``golden.verify``
write the recordings instead of comparing with them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from phased.migrate.golden import GoldenRun, Mode, run
from phased.migrate.targets import CallableTarget, Target, import_target


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--golden-record``: ``golden.verify`` records instead of comparing."""
    group = parser.getgroup("phased")
    group.addoption(
        "--golden-record",
        action="store_true",
        default=False,
        help="phased golden fixture: write recordings instead of verifying them.",
    )


class Golden:
    """The ``golden`` fixture: run a directory of scenarios and fail the test on any failure."""

    def __init__(self, record: bool) -> None:
        self.record = record

    @staticmethod
    def _target(target: str | Callable[..., Any]) -> Target:
        if isinstance(target, str):
            return import_target(target)
        return CallableTarget(target, getattr(target, "__qualname__", repr(target)))

    def _run(
        self,
        mode: Mode,
        directory: str | os.PathLike[str],
        target: str | Callable[..., Any],
        scenarios: Sequence[str],
        both_arms: bool,
    ) -> GoldenRun:
        result = run(mode, directory, self._target(target), names=scenarios, both_arms=both_arms)
        if not result.passed:
            pytest.fail("\n".join(result.messages()), pytrace=False)
        return result

    def test(
        self,
        directory: str | os.PathLike[str],
        *,
        target: str | Callable[..., Any],
        scenarios: Sequence[str] = (),
        both_arms: bool = False,
    ) -> GoldenRun:
        """Check every turn's expectations."""
        return self._run(Mode.TEST, directory, target, scenarios, both_arms)

    def verify(
        self,
        directory: str | os.PathLike[str],
        *,
        target: str | Callable[..., Any],
        scenarios: Sequence[str] = (),
        both_arms: bool = False,
    ) -> GoldenRun:
        """Compare with the recordings (or write them under ``--golden-record``)."""
        mode = Mode.RECORD if self.record else Mode.VERIFY
        return self._run(mode, directory, target, scenarios, both_arms)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """Run golden scenarios from a test; see :class:`Golden`."""
    return Golden(bool(request.config.getoption("--golden-record", default=False)))
