"""clients/typescript (@phased/outcomes) under `node --test` against a real server.

The JavaScript side is clients/typescript/test/outcomes.test.js; its packages
come from package-lock.json (`.ci/run` runs `npm ci`). Skips locally without
node or the packages, fails under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import mmh3

from phased.core.sketch import bucket_key
from server.ofrep_setup import load_flags
from server.test_ofrep_node import node_or_skip

if TYPE_CHECKING:
    from server.conftest import RunningServer

PROJECT = Path(__file__).parents[2] / "clients" / "typescript"
TEXTS = ["", "a", "user-1", "0123456789abcdef", "x" * 33, "üñí€ 用户", "u" * 200]
LATENCIES = [0.001, 0.5, 1.0, 1.02, 3.14159, 17.0, 250.0, 1234.5, 99999.0]


class TestTypescriptClient:
    """The hook + track() ship outcomes the server merges into the rollout's windows."""

    def test_node_test_runner(self, server: RunningServer, tmp_path: Path) -> None:
        node = node_or_skip(PROJECT)
        secret = load_flags(server)
        vectors = {
            "murmur": [[t, f"{mmh3.hash64(t, signed=False)[0]:016x}"] for t in TEXTS],
            "buckets": [[v, bucket_key(v)] for v in LATENCIES],
        }
        path = tmp_path / "vectors.json"
        path.write_text(json.dumps(vectors))
        env = {
            **os.environ,
            "PHASED_URL": server.url,
            "PHASED_TOKEN": secret,
            "PHASED_ADMIN": server.admin_secret,
            "PHASED_VECTORS": str(path),
        }
        result = subprocess.run(
            [node, "--test", "--test-reporter=tap", "test/"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert "# fail 0" in result.stdout
