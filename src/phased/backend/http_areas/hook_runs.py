"""The ``hook_runs`` area over the HTTP API (:mod:`phased.service.hook_runs`): the record, read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from phased.backend.http_areas import RemoteStore, when
from phased.service.hook_runs import HookRun, RunLog


def run_of(data: dict[str, Any]) -> HookRun:
    """A ``HookRunPublic`` document as the stored run."""
    return HookRun(
        **{
            **data,
            "started_at": datetime.fromisoformat(data["started_at"]),
            "finished_at": when(data.get("finished_at")),
        }
    )


class HttpHookRuns:
    """The ``hook_runs`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_runs(self, flag: str, *, limit: int = 200) -> RunLog:
        """The hook runs of the flag's latest rollout, newest first."""
        data = self.http.request("GET", f"/rollouts/{flag}/hooks", params={"limit": limit})
        return RunLog(int(data["rollout_id"]), tuple(run_of(r) for r in data["runs"]))
