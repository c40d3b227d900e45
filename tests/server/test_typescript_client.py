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
from phased.engine.loop import reconcile_once
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


AWF_FLAGS = """
flags:
  awf_bundle:
    description: AWF pipeline instead of the legacy turn
    environments:
      prod: {rollout: 0}
"""
PLAN = Path(__file__).parents[2] / "examples" / "plans" / "awf-phase7.yaml"


class TestSeed003Example:
    """The example TypeScript turn service's outcomes drive the AWF rollout (seed 003)."""

    def _run(self, server: RunningServer, *args: str) -> dict[str, object]:
        node = node_or_skip(PROJECT)
        admin = server.client()
        assert admin.post("/api/v1/flags-file/apply", json={"text": AWF_FLAGS}).status_code == 200
        member = admin.post("/api/v1/members", json={"name": "alice", "roles": ["admin"]})
        assert member.status_code in (200, 201), member.text
        applied = admin.post(
            "/api/v1/plans/apply", json={"text": PLAN.read_text("utf-8"), "path": str(PLAN)}
        )
        assert applied.status_code == 201, applied.text
        ticked = admin.post(  # canary-5 needs a passing golden run of its suite (seed 003)
            "/api/v1/golden-runs",
            json={
                "suite": "awf-goldens",
                "build": "ts-example",
                "mode": "test",
                "passed": True,
                "counts": {"scenarios": 1},
                "failures": [],
                "flag": "awf_bundle",
            },
        )
        assert ticked.status_code in (200, 201), ticked.text
        reconcile_once(server.store)  # the engine's pass: the ticked first stage applies
        server.wait_for_revision()
        secret = server.token("sdk", name="awf-backend", environment="prod")
        result = subprocess.run(
            [node, "examples/awf-turn-service.mjs", *args],
            cwd=PROJECT,
            env={**os.environ, "PHASED_URL": server.url, "PHASED_TOKEN": secret},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
        return summary

    def test_outcomes_land_in_the_stage_windows(self, server: RunningServer) -> None:
        summary = self._run(server, "--turns", "600")
        assert summary["delivered"] is True
        totals = server.client().get(
            "/api/v1/outcomes/awf_bundle", params={"environment": "prod", "stage": "canary-5"}
        )
        arms = {a["arm"]: a for a in totals.json()["arms"]}
        served = summary["served"]
        assert isinstance(served, dict)
        assert arms["candidate"]["requests"] + arms["control"]["requests"] == 600
        assert arms["candidate"]["requests"] >= served["awf"] > 0

    def test_a_bad_build_rolls_back(self, server: RunningServer) -> None:
        """AWF turns falling back to legacy (50 %) trip the plan's critical fallback-rate trigger."""
        summary = self._run(server, "--turns", "1000", "--fallback-rate", "0.5")
        assert summary["delivered"] is True
        report = reconcile_once(server.store)
        decisions = {o.flag: o.decision for o in report.outcomes}
        assert decisions["awf_bundle"] == "rollback", report
