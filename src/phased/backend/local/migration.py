"""The local Backend's areas for moving to a new
system: old/new comparison, golden runs, retiring flags.

Each binds its :mod:`phased.service` module to the store
(see :mod:`phased.backend.local`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.service import compare as _compare
from phased.service import golden_runs as _golden_runs
from phased.service import retire as _retire

if TYPE_CHECKING:
    from phased.core.retire import Prerequisite
    from phased.service.compare import Mismatch
    from phased.service.golden_runs import GoldenRunRecord
    from phased.service.retire import Retired, StaleFlag
    from phased.store.engine import Store


class LocalCompare:
    """:mod:`phased.service.compare` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record_mismatch(self, sample: dict[str, Any]) -> int:
        return _compare.record_mismatch(self.store, sample)

    def list_mismatches(
        self, flag: str, *, include_resolved: bool = False, limit: int = 50
    ) -> list[Mismatch]:
        return _compare.list_mismatches(
            self.store, flag, include_resolved=include_resolved, limit=limit
        )

    def resolve_mismatch(self, *, actor: str | None, mismatch_id: int, note: str) -> Mismatch:
        return _compare.resolve_mismatch(
            self.store, actor=actor, mismatch_id=mismatch_id, note=note
        )


class LocalGoldenRuns:
    """:mod:`phased.service.golden_runs` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        return _golden_runs.report(
            self.store,
            actor=actor,
            suite=suite,
            build=build,
            mode=mode,
            passed=passed,
            counts=counts,
            failures=failures,
            flag=flag,
            stage=stage,
        )

    def get_run(self, run_id: int) -> GoldenRunRecord:
        return _golden_runs.get_run(self.store, run_id)

    def list_runs(self, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
        return _golden_runs.list_runs(self.store, suite=suite, limit=limit)


class LocalRetire:
    """:mod:`phased.service.retire` over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(
        self,
        key: str,
        *,
        days: int = _retire.DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
    ) -> list[Prerequisite]:
        return _retire.check(self.store, key, days=days, value=value, code_refs=code_refs)

    def retire(
        self,
        *,
        actor: str | None,
        key: str,
        days: int = _retire.DEFAULT_DAYS,
        value: str | None = None,
        code_refs: int | None = None,
        force: bool = False,
    ) -> Retired:
        return _retire.retire(
            self.store,
            actor=actor,
            key=key,
            days=days,
            value=value,
            code_refs=code_refs,
            force=force,
        )

    def stale(self, *, days: int = 30) -> list[StaleFlag]:
        return _retire.stale(self.store, days=days)
