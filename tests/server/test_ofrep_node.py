"""The community Node providers, unchanged, against a real server, under `node --test`.

The JavaScript side is clients/ofrep-node-test/ofrep.test.js (its packages come
from package-lock.json: `.ci/run` runs `npm ci` there). Without node or those
packages this skips locally and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from phased import Client
from server.ofrep_setup import FLAGS_FILE, load_flags

if TYPE_CHECKING:
    from server.conftest import RunningServer

PROJECT = Path(__file__).parents[2] / "clients" / "ofrep-node-test"


def node_or_skip(project: Path) -> str:
    """The node binary, once the project's packages are installed (skip, or fail in CI)."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed (apt-get install nodejs npm)"
    elif not (project / "node_modules").is_dir():
        missing = f"run `npm ci` in {project}"
    if missing is None:
        assert node is not None
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing}: required under CI")
    pytest.skip(missing)


class TestNodeProvider:
    """@openfeature/server-sdk + @openfeature/ofrep-provider answer as phased.Client does."""

    def test_node_test_runner(self, server: RunningServer, tmp_path: Path) -> None:
        node = node_or_skip(PROJECT)
        secret = load_flags(server)
        sdk = Client.from_file(FLAGS_FILE, environment="prod")
        users = {
            f"user-{i}": {
                "new-checkout": sdk.is_enabled("new-checkout", user=f"user-{i}"),
                "layout": sdk.variant("layout", user=f"user-{i}"),
            }
            for i in range(100)
        }
        expected = tmp_path / "expected.json"
        expected.write_text(json.dumps({"users": users}))
        env = {
            **os.environ,
            "PHASED_URL": server.url,
            "PHASED_TOKEN": secret,
            "PHASED_EXPECTED": str(expected),
        }
        result = subprocess.run(
            [node, "--test", "--test-reporter=tap", "ofrep.test.js"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "# fail 0" in result.stdout
