"""The `phased` entry point against a running server, and `phased serve` itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from server.conftest import RunningServer

PHASED = str(Path(sys.executable).with_name("phased"))


def _phased(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
    return subprocess.run(
        [PHASED, *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestTokenCommandsRemote:
    """With PHASED_SERVER and PHASED_TOKEN, `phased token` goes through the API."""

    def test_create_list_revoke(self, server: RunningServer, tmp_path: Path) -> None:
        env = {"PHASED_SERVER": server.url, "PHASED_TOKEN": server.admin_secret}
        created = _phased(["token", "create", "--role", "pm", "--name", "alice"], env, tmp_path)
        assert created.returncode == 0, created.stderr
        secret = created.stdout.strip()
        assert secret.startswith("phd_")
        server.wait_for_revision()
        me = server.client(secret).get("/api/v1/tokens/me").json()
        assert (me["name"], me["role"]) == ("alice", "pm")
        listed = _phased(["token", "list", "--json"], env, tmp_path)
        assert "alice" in [row["name"] for row in json.loads(listed.stdout)]
        revoked = _phased(["token", "revoke", me["token_id"]], env, tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        audit = server.client().get("/api/v1/audit", params={"action": "token."}).json()
        assert [e["action"] for e in audit][:2] == ["token.revoke", "token.create"]
        assert audit[0]["actor"] == "root"

    def test_refusal_is_one_line_and_exit_1(self, server: RunningServer, tmp_path: Path) -> None:
        env = {"PHASED_SERVER": server.url, "PHASED_TOKEN": server.token("viewer")}
        result = _phased(["token", "create", "--role", "admin", "--name", "x"], env, tmp_path)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error: ")
        assert "admin" in lines[0]

    def test_unreachable_server(self, tmp_path: Path) -> None:
        env = {"PHASED_SERVER": "http://127.0.0.1:9", "PHASED_TOKEN": "phd_x"}
        result = _phased(["token", "list"], env, tmp_path)
        assert result.returncode == 1
        assert "cannot reach the phased server" in result.stderr


class TestServe:
    """`phased serve` on an empty store prints the first admin token once and leads."""

    def test_first_start(self, tmp_path: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASED_")}
        env = {
            **clean,
            "PHASED_DATABASE_URL": f"sqlite:///{tmp_path / 'phased.db'}",
            "PHASED_EXAMPLES_DIR": str(tmp_path / "none"),
        }
        proc = subprocess.Popen(
            [PHASED, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            secret = proc.stdout.readline().strip()
            assert secret.startswith("phd_")
            deadline = time.monotonic() + 20
            while True:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert health["leader"] is True
            me = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/tokens/me",
                headers={"Authorization": f"Bearer {secret}"},
            ).json()
            assert me["role"] == "admin"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
            if proc.stdout is not None:
                proc.stdout.close()
        again = _phased(
            ["token", "list", "--json"],
            {"PHASED_DATABASE_URL": env["PHASED_DATABASE_URL"]},
            tmp_path,
        )
        assert [row["name"] for row in json.loads(again.stdout)] == ["admin"]
