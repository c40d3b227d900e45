"""The Backend's protocols for moving to a new
system: old/new comparison, golden runs, retiring flags.

See :mod:`phased.backend.areas`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from phased.core.retire import Prerequisite
    from phased.service.compare import Mismatch
    from phased.service.golden_runs import GoldenRunRecord
    from phased.service.retire import Retired, StaleFlag


class Compare(Protocol):
    """The ``compare`` use cases (:mod:`phased.service.compare`)."""

    def record_mismatch(self, sample: dict[str, Any]) -> int:
        """Keep one old/new mismatch sample (redacted, bounded per flag); its id."""
        ...

    def list_mismatches(
        self, flag: str, *, include_resolved: bool = False, limit: int = 50
    ) -> list[Mismatch]:
        """The flag's kept samples, newest first."""
        ...

    def resolve_mismatch(self, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
        """Mark a mismatch "new behaviour is correct" (audited); it stops counting."""
        ...


class GoldenRuns(Protocol):
    """The ``golden_runs`` use cases (:mod:`phased.service.golden_runs`)."""

    def report(
        self,
        *,
        actor: str | None,
        suite: str,
        build: str,
        mode: str,
        passed: bool,
        counts: dict[str, int],
        failures: list[str],
        flag: str | None = None,
        stage: str | None = None,
    ) -> GoldenRunRecord:
        """Record one golden run; a passing run ticks the stage's item, a failing one blocks it."""
        ...

    def get_run(self, run_id: int) -> GoldenRunRecord:
        """One reported run."""
        ...

    def list_runs(self, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
        """Reported runs, newest first."""
        ...


class Retire(Protocol):
    """The ``retire`` use cases (:mod:`phased.service.retire`).

    ``code_refs`` is what ``phased flag refs`` counted in the caller's own
    source tree: the code lives with the client, not the server, so the
    client scans it and sends the count.
    """

    def check(
        self,
        key: str,
        *,
        days: int = 7,
        value: str | None = None,
        code_refs: int | None = None,
    ) -> list[Prerequisite]:
        """The prerequisites of retiring ``key`` and whether each holds."""
        ...

    def retire(
        self,
        *,
        actor: str | None,
        key: str,
        days: int = 7,
        value: str | None = None,
        code_refs: int | None = None,
        force: bool = False,
    ) -> Retired:
        """Check the prerequisites; if all hold (or ``force``), make the new value permanent."""
        ...

    def stale(self, *, days: int = 30) -> list[StaleFlag]:
        """Flags fully rolled out, or without any outcome, and unchanged for ``days``."""
