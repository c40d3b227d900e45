"""Remote twin of :mod:`phased.service.golden_runs` (see the package docs)."""

from __future__ import annotations

from typing import Any

from phased.server.remote_services import RemoteStore, when
from phased.service.golden_runs import GoldenRunRecord

__all__ = ["GoldenRunRecord", "get_run", "list_runs", "report"]


def _run(data: dict[str, Any]) -> GoldenRunRecord:
    at = when(data["at"])
    assert at is not None
    return GoldenRunRecord(
        id=int(data["id"]),
        suite=data["suite"],
        flag=data["flag"],
        build=data["build"],
        mode=data["mode"],
        passed=bool(data["passed"]),
        counts=dict(data["counts"]),
        failures=list(data["failures"]),
        actor=data["actor"],
        at=at,
        ticked=data.get("stage"),
    )


def report(
    store: RemoteStore,
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
    """Record one golden run on the server."""
    del actor
    body = {
        "suite": suite, "build": build, "mode": mode, "passed": passed, "counts": counts,
        "failures": failures, "flag": flag, "stage": stage,
    }  # fmt: skip
    return _run(store.request("POST", "/golden-runs", json=body))


def get_run(store: RemoteStore, run_id: int) -> GoldenRunRecord:
    """One reported run."""
    return _run(store.request("GET", f"/golden-runs/{run_id}"))


def list_runs(
    store: RemoteStore, *, suite: str | None = None, limit: int = 50
) -> list[GoldenRunRecord]:
    """Reported runs, newest first."""
    rows = store.request("GET", "/golden-runs", params={"suite": suite, "limit": limit})
    return [_run(r) for r in rows]
