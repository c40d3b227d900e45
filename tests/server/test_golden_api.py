"""Golden runs over HTTP: report (run_plans), read back, and `phased golden --report` remotely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.conftest import RunningServer

PHASED = str(Path(sys.executable).with_name("phased"))
REPO = Path(__file__).parents[2]


class TestGoldenRunsApi:
    """POST needs a role that runs plans; the run is readable at its link."""

    def test_report_and_read(self, server: RunningServer) -> None:
        body = {"suite": "awf", "build": "v2", "mode": "test", "passed": True,
                "counts": {"scenarios": 1}}  # fmt: skip
        refused = server.client(server.token("viewer")).post("/api/v1/golden-runs", json=body)
        assert refused.status_code == 403
        made = server.client().post("/api/v1/golden-runs", json=body)
        assert made.status_code == 201, made.text
        run = made.json()
        assert (run["evidence"], run["actor"], run["stage"]) == (
            f"golden-run:{run['id']}",
            "root",
            None,
        )
        read = server.client(server.token("viewer")).get(run["link"])
        assert read.json()["build"] == "v2"
        bad = server.client().post("/api/v1/golden-runs", json=body | {"build": ""})
        assert bad.status_code == 422
        assert "build" in bad.text

    def test_cli_reports_through_the_server(self, server: RunningServer) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
        env = clean | {"PHASED_SERVER": server.url, "PHASED_TOKEN": server.admin_secret,
                       "PHASED_TRACE_FILE": os.devnull}  # fmt: skip
        done = subprocess.run(
            [PHASED, "golden", "test", "examples/goldens", "--target",
             "examples.goldens.awf_turn:run_turn", "--report", "awf", "--build", "abc123"],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "reported passing run golden-run:" in done.stdout
        runs = server.client().get("/api/v1/golden-runs", params={"suite": "awf"}).json()
        assert [(r["build"], r["passed"]) for r in runs] == [("abc123", True)]
        assert json.dumps(runs)
