"""The ``golden_runs`` area over the HTTP API (:mod:`phased.service.golden_runs`)."""

from __future__ import annotations

from typing import Any

from phased.backend.http_areas import RemoteStore, when
from phased.service.golden_runs import GoldenRunRecord


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


class HttpGoldenRuns:
    """The ``golden_runs`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

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
        """Record one golden run on the server (the token's owner is its actor)."""
        del actor
        body = {
            "suite": suite,
            "build": build,
            "mode": mode,
            "passed": passed,
            "counts": counts,
            "failures": failures,
            "flag": flag,
            "stage": stage,
        }
        return _run(self.http.request("POST", "/golden-runs", json=body))

    def get_run(self, run_id: int) -> GoldenRunRecord:
        """One reported run."""
        return _run(self.http.request("GET", f"/golden-runs/{run_id}"))

    def list_runs(self, *, suite: str | None = None, limit: int = 50) -> list[GoldenRunRecord]:
        """Reported runs, newest first."""
        rows = self.http.request("GET", "/golden-runs", params={"suite": suite, "limit": limit})
        return [_run(r) for r in rows]
