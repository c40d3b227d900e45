"""Mismatch samples over HTTP: an SDK client sends them, people list and resolve them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from phased import Client

if TYPE_CHECKING:
    from server.conftest import RunningServer

PHASED = str(Path(sys.executable).with_name("phased"))


class TestCompareOverHttp:
    """Client(url=...) posts its samples; the CLI lists and resolves them through the server."""

    def test_sdk_sample_list_resolve(self, server: RunningServer, tmp_path: Path) -> None:
        admin = server.client()
        admin.post("/api/v1/flags", json={"key": "unified_pipeline"})
        admin.put("/api/v1/flags/unified_pipeline/environments/prod/rollout", json={"percent": 100})
        admin.put(
            "/api/v1/flags/unified_pipeline/environments/prod/enabled", json={"enabled": True}
        )
        server.wait_for_revision()
        sdk_token = server.token("sdk", environment="prod")
        with Client(url=server.url, token=sdk_token, environment="prod", wait_ready=5) as client:
            assert client.is_enabled("unified_pipeline", user="issue-7")
            out = client.compare(
                "unified_pipeline",
                old=lambda: ["bug"],
                new=lambda: ["bug", "dup"],
                mode="shadow",
                user="issue-7",
            )
            assert out == ["bug"]
            deadline = time.monotonic() + 10
            found: list[dict[str, object]] = []
            while not found and time.monotonic() < deadline:
                found = admin.get("/api/v1/compare/unified_pipeline/mismatches").json()
                time.sleep(0.05)
        assert found[0]["new"] == ["bug", "dup"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
        env |= {
            "PHASED_SERVER": server.url,
            "PHASED_TOKEN": server.admin_secret,
            "PHASED_TRACE_FILE": os.devnull,
        }

        def phased(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [PHASED, *args],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        listed = phased("compare", "mismatches", "unified_pipeline")
        assert listed.returncode == 0, listed.stderr
        assert '    + [1]: "dup"' in listed.stdout
        done = phased("compare", "resolve", str(found[0]["id"]), "--note", "dedup is intended")
        assert done.returncode == 0, done.stderr
        assert "new behaviour is correct (root)" in done.stdout
        assert admin.get("/api/v1/compare/unified_pipeline/mismatches").json() == []
        refused = server.client(server.token("viewer")).post(
            f"/api/v1/compare/mismatches/{found[0]['id']}/resolve", json={"note": "x"}
        )
        assert refused.status_code == 403
