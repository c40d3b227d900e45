"""The CLI against a real server (PHASED_SERVER + PHASED_TOKEN): the same commands, the same output.

Every command runs twice through the root command (in-process, for speed;
``TestEntryPoint`` goes through the installed ``phased`` script): once on a
local SQLite store, once against a uvicorn server on 127.0.0.1 whose store
has the same history. Both stores start with one admin token named ``root``
(so audit ids and revisions line up), and every local change is made
``--actor root``, the remote token's owner. Timestamps and hashes (which
hash the timestamps) are masked before comparing; everything else must match.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from phased.cli.main import app
from phased.obs import configure_logging
from phased.service import alert_triggers, tokens
from phased.service.flags import create_flag, set_default, set_enabled
from phased.service.golden_runs import report
from phased.store.engine import Store, open_store
from server.conftest import ENVIRONMENTS, RunningServer, free_port, server, start_server
from server.test_rollout_logs_api import record_history, start_rollout

__all__ = ["server", "start_server"]  # fixtures used here

PHASED = str(Path(sys.executable).with_name("phased"))
REPO = Path(__file__).parents[2]
PLAN = REPO / "examples" / "plans" / "quickstart.yaml"
TS = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?( UTC)?")
SHORT_TS = re.compile(r"\b\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b")
HASH = re.compile(r"\b[0-9a-f]{16,64}\b")


RAN = re.compile(r"(\| <ts> \| )(\d+[dhms])+ \|")
"""The report's "Ran" column: how long the running stage has run, which moves between runs."""
SOAK_REASON = re.compile(r"soak (\d+[dhms] ?)+of")
SOAK_LINE = re.compile(r"^(.*soak.*?)\b\d+(\.\d+)?s\b", re.M)
SOAK_LEFT = re.compile(r"soak: \S+ left")  # the at-a-glance lines: time left moves too


def _unsoaked(value: Any) -> Any:
    """The soak requirement's value is time elapsed, which moves between the two runs."""
    if isinstance(value, dict):
        label = str(value.get("check") or value.get("label") or "")
        if value.get("metric") == "soak" or label.startswith("soak "):
            return {**value, "value": "<elapsed>", "reason": "<elapsed>"}
        return {k: _unsoaked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsoaked(v) for v in value]
    return value


def mask(text: str) -> str:
    """The text with times, hashes and soak progress replaced by placeholders."""
    try:
        text = json.dumps(_unsoaked(json.loads(text)), indent=2)
    except ValueError:
        text = SOAK_LINE.sub(r"\1<elapsed>", text)
    text = SOAK_REASON.sub("soak <elapsed> of", text)
    text = SOAK_LEFT.sub("soak: <left> left", text)
    text = HASH.sub("<hash>", SHORT_TS.sub("<ts>", TS.sub("<ts>", text)))
    return RAN.sub(r"\1<ran> |", text)


@dataclass
class Twins:
    """Runs a command locally and against the server and returns both results."""

    server: RunningServer
    local_db: str
    cwd: Path

    def run(self, *args: str, remote: bool, env: dict[str, str] | None = None) -> Ran:
        """One invocation of the root command, locally or against the server."""
        base: dict[str, str | None] = {
            "COLUMNS": "200",
            "PHASED_TRACE_FILE": str(self.cwd / "traces.jsonl"),
            "PHASED_SERVER": None,
            "PHASED_TOKEN": None,
            "PHASED_ACTOR": None,
            "PHASED_DATABASE_URL": None,
        }
        if remote:
            base |= {"PHASED_SERVER": self.server.url, "PHASED_TOKEN": self.server.admin_secret}
        else:
            base |= {"PHASED_DATABASE_URL": self.local_db, "PHASED_ACTOR": "root"}
        done = CliRunner().invoke(app, list(args), env={**base, **(env or {})})
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        return Ran(done.exit_code, done.stdout, done.stderr)

    def same(self, *args: str, who: tuple[str, str] | None = None) -> Ran:
        """Run both ways; assert equal exit code, stdout and stderr (masked); the remote result.

        ``who``: (actor, token secret) to act as instead of root.
        """
        local_env = {"PHASED_ACTOR": who[0]} if who else None
        remote_env = {"PHASED_TOKEN": who[1]} if who else None
        local = self.run(*args, remote=False, env=local_env)
        remote = self.run(*args, remote=True, env=remote_env)
        assert remote.code == local.code, (args, local, remote)
        assert mask(remote.out) == mask(local.out), args
        assert mask(remote.err) == mask(local.err), args
        return remote


@dataclass
class Ran:
    """One finished command."""

    code: int
    out: str
    err: str


@pytest.fixture
def twins(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Twins]:
    """A server and a local store with the same history (one admin token, ``root``)."""
    monkeypatch.chdir(tmp_path)
    # The server shares this process: its request log must not land in the CLI's stdout.
    saved = structlog.get_config()
    configure_logging(stream=io.StringIO(), json=True, level="warn")
    url = f"sqlite:///{tmp_path / 'local.db'}"
    with open_store(url, environments=("dev", "staging", "prod")) as store:
        tokens.create_token(store, actor="test-setup", name="root", role="admin")
    yield Twins(server, url, tmp_path)
    structlog.configure(**saved)


class TestSameOutput:
    """Flags, rollouts, overrides, segments, eval, the flags file and the audit read the same."""

    def test_flag_lifecycle(self, twins: Twins) -> None:
        out = twins.same("flag", "create", "awf", "--description", "bundle", "--owner", "web")
        assert "created flag awf, off in dev, staging, prod" in out.out
        assert "--actor root" in out.out
        twins.same("flag", "enable", "awf", "--env", "prod")
        twins.same("rollout", "set", "awf", "--percent", "25", "--env", "prod")
        out = twins.same("rollout", "set", "awf", "--percent", "25", "--env", "prod")
        assert "already 25%, nothing written" in out.out
        twins.same("flag", "set-default", "awf", "on", "--env", "dev")
        twins.same("segment", "create", "staff", "--where", "role in [admin, pm]")
        twins.same("override", "set", "awf", "--user", "u1", "--enable", "--env", "prod")
        twins.same("flag", "create", "old", "--variants", "a=50,b=50")
        for listing in (
            ("flag", "list"),
            ("flag", "list", "--json"),
            ("flag", "show", "awf"),
            ("flag", "show", "awf", "--json"),
            ("segment", "list"),
            ("segment", "show", "staff", "--json"),
            ("override", "list"),
            ("override", "list", "awf", "--env", "prod", "--json"),
            ("eval", "awf", "--env", "prod", "--ctx", "user=u1", "--json"),
            ("eval", "awf", "--env", "prod", "--ctx", "user=u2"),
            ("audit", "recent", "--json"),
            ("audit", "recent", "--action", "flag.", "-n", "3"),
            ("audit", "verify", "--json"),
            ("flags", "export"),
            ("flags", "export", "--env", "prod"),
        ):
            twins.same(*listing)
        twins.same("override", "clear", "awf", "--user", "u1", "--env", "prod")
        twins.same("flag", "delete", "old")
        exported = twins.run("flags", "export", remote=True).out
        (twins.cwd / "flags.yaml").write_text(exported.replace("bundle", "the bundle"))
        twins.same("flags", "apply", "flags.yaml", "--dry-run")
        out = twins.same("flags", "apply", "flags.yaml", "--json")
        assert json.loads(out.out)["applied"] is True
        twins.same("audit", "export")

    def test_remaining_backend_calls(self, twins: Twins) -> None:
        """The Backend methods the other tests leave out, and the duration grammar, both ways."""
        twins.same("flag", "create", "awf")
        twins.same("segment", "create", "beta", "--where", "labels contains beta")
        twins.same("segment", "delete", "beta")
        for who in ("u1", "u2"):
            twins.same(
                "override", "set", "awf", "--user", who, "--enable",
                "--expires", "1h30m", "--env", "prod",
            )  # fmt: skip
        twins.same("override", "list", "--json")
        twins.same("override", "clear-all", "awf", "--env", "prod")
        twins.same("audit", "recent", "--since", "90s", "--json")
        twins.same("audit", "recent", "--since", "1h30m", "--until", "0s")
        twins.same("alerts", "list", "--json")
        twins.same("alerts", "config", "show", "--json")
        refused = twins.same("rollout", "check", "awf", "--item", "docs")
        assert refused.code == 1, refused

    def test_refusals_are_the_same_line(self, twins: Twins) -> None:
        twins.same("flag", "create", "awf")
        for refused in (
            ("flag", "create", "awf"),
            ("rollout", "set", "awf", "--percent", "101", "--env", "prod"),
            ("flag", "enable", "nope", "--env", "prod"),
            ("flag", "enable", "awf", "--env", "moon"),
            ("flag", "enable", "awf", "--env", "prod", "--expect-version", "7"),
            ("segment", "show", "nobody"),
            ("flag", "list", "--env", "moon"),
        ):
            out = twins.same(*refused)
            assert out.code == 1
            assert out.err.startswith("error: "), out.err
            assert out.err.count("\n") == 1, out.err

    def test_rollout_commands(self, twins: Twins) -> None:
        pat = ("pat", twins.server.token("pm", name="pat"))
        with open_store(twins.local_db) as store:  # the same history on both sides
            tokens.create_token(store, actor="test-setup", name="pat", role="pm")
        twins.same("flag", "create", "new_checkout")
        twins.same("plan", "apply", str(PLAN))  # refused: nobody holds pm yet
        twins.same("member", "add", "root", "--role", "admin")
        twins.same("member", "add", "pat", "--role", "pm")
        twins.same("member", "list", "--json")
        out = twins.same("plan", "apply", str(PLAN))
        assert "started rollout #1 of new_checkout" in out.out
        for listing in (
            ("rollout", "status"),
            ("rollout", "status", "--json"),
            ("rollout", "status", "new_checkout"),
            ("rollout", "status", "new_checkout", "--json"),
            ("slo", "status"),
            ("slo", "status", "--json"),
        ):
            twins.same(*listing)
        assert twins.same("rollout", "advance", "new_checkout").code == 1  # not ready: refused
        twins.same("rollout", "pause", "new_checkout", "--reason", "looking")
        twins.same("rollout", "pause", "new_checkout")
        twins.same("rollout", "resume", "new_checkout")
        twins.same("rollout", "advance", "new_checkout", "--force")
        assert twins.same("rollout", "approve", "new_checkout", "--stage", "canary-50").code == 1
        twins.same("rollout", "approve", "new_checkout", "--stage", "canary-50", who=pat)
        twins.same("incident", "open", "new_checkout", "--severity", "P2", "--title", "slow")
        twins.same("incident", "list", "--json")
        twins.same("incident", "resolve", "INC-1")
        twins.same("incident", "list")
        twins.same("rollout", "history", "new_checkout", "--json")
        twins.same("rollout", "history", "new_checkout")
        twins.same("rollout", "rollback", "new_checkout", "--reason", "enough")
        twins.same("rollout", "report", "new_checkout")
        assert twins.same("rollout", "report", "new_checkout", "--rollout", "99").code == 1
        assert twins.same("rollout", "history", "new_checkout", "--rollout", "99").code == 1
        twins.same("member", "remove", "pat")
        twins.same("audit", "recent", "-n", "50", "--json")


class TestTokenTwins:
    """``phased token`` goes through the Backend too: create, list and revoke read the same."""

    @staticmethod
    def _listed(twins: Twins, *, remote: bool) -> list[dict[str, Any]]:
        out = twins.run("token", "list", "--all", "--json", remote=remote)
        assert out.code == 0, out
        # Secrets are random, so their printed prefixes differ; everything else must not.
        return [{**row, "prefix": "<prefix>"} for row in json.loads(mask(out.out))]

    def test_create_list_revoke(self, twins: Twins) -> None:
        made = {}
        for remote in (False, True):
            out = twins.run("token", "create", "--role", "pm", "--name", "pat", remote=remote)
            assert out.code == 0, out
            assert out.out.startswith("phd_"), out
            assert out.out.count("\n") == 1, out
            made[remote] = out
        assert mask(made[True].err) == mask(made[False].err)
        assert "role pm" in made[True].err
        assert self._listed(twins, remote=True) == self._listed(twins, remote=False)
        for remote in (False, True):
            rows = json.loads(twins.run("token", "list", "--json", remote=remote).out)
            pat = next(r["id"] for r in rows if r["name"] == "pat")
            out = twins.run("token", "revoke", pat, remote=remote)
            assert out.out == f"revoked token {pat} (pat, role pm)\n", out
        assert self._listed(twins, remote=True) == self._listed(twins, remote=False)
        refused = twins.same("token", "revoke", "0000000000000000")
        assert refused.code == 1
        assert "no active token" in refused.err


class TestRemoteOnly:
    """What only a server has: the token's owner is the actor, roles, a server that is down."""

    def test_actor_is_the_token_owner(self, twins: Twins) -> None:
        ok = twins.run("flag", "create", "f", "--actor", "root", remote=True)
        assert ok.code == 0, ok.err
        other = twins.run("flag", "enable", "f", "--env", "dev", "--actor", "bob", remote=True)
        assert other.code == 1
        assert other.err == (
            "error: actor: over PHASED_SERVER the actor is the token's owner 'root', not 'bob'; "
            "drop --actor (and PHASED_ACTOR) or use that person's token\n"
        )
        audit = twins.server.client().get("/api/v1/audit", params={"action": "flag."}).json()
        assert [(e["action"], e["actor"]) for e in audit] == [("flag.create", "root")]

    def test_role_refusal_is_one_line(self, twins: Twins) -> None:
        viewer = twins.server.token("viewer", name="vic")
        twins.run("flag", "create", "f", remote=True)
        out = twins.run(
            "flag", "enable", "f", "--env", "dev", remote=True, env={"PHASED_TOKEN": viewer}
        )
        assert out.code == 1
        assert out.err.startswith("error: "), out.err
        assert out.err.count("\n") == 1, out.err
        listed = twins.run("flag", "list", "--json", remote=True, env={"PHASED_TOKEN": viewer})
        assert [f["key"] for f in json.loads(listed.out)] == ["f"]

    def test_trace_user_is_the_token_owner(self, twins: Twins) -> None:
        assert twins.run("flag", "create", "f", remote=True).code == 0
        last = json.loads((twins.cwd / "traces.jsonl").read_text().splitlines()[-1])
        assert (last["command"], last["user"]) == ("flag create", "root")
        # one step per backend call (parsing --variants is not a call into the service layer)
        assert [s["name"] for s in last["steps"]] == ["flags.create_flag", "flags.get_flag"]
        assert all(s["status"] == "ok" for s in last["steps"])

    def test_database_only_commands_refuse(self, twins: Twins) -> None:
        for args in (("alerts", "deliver", "--once"), ("engine", "run", "--once")):
            out = twins.run(*args, remote=True)
            assert out.code == 1, args
            assert out.err.startswith(
                f"error: server: `phased {' '.join(args[:2])}` works on a database"
            )
            assert out.err.count("\n") == 1

    def test_db_and_server_together_is_a_usage_error(self, twins: Twins) -> None:
        out = twins.run("flag", "list", "--db", twins.local_db, remote=True)
        assert out.code == 2
        assert out.err.count("\n") == 1
        assert "PHASED_SERVER" in out.err


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


class TestEntryPoint:
    """The installed ``phased`` script: a change, a refusal and a server that is down."""

    def test_change_and_refusal(self, server: RunningServer, tmp_path: Path) -> None:
        env = {"PHASED_SERVER": server.url, "PHASED_TOKEN": server.admin_secret}
        created = _phased(["flag", "create", "awf"], env, tmp_path)
        assert created.returncode == 0, created.stderr
        assert created.stdout.startswith("created flag awf, off in dev, staging, prod\n")
        refused = _phased(
            ["rollout", "set", "awf", "--percent", "101", "--env", "prod"], env, tmp_path
        )
        assert refused.returncode == 1
        assert refused.stderr == (
            "error: percent: must be between 0 and 100 (got 101.0); e.g. --percent 25 or 12.5\n"
        )
        listed = _phased(["flag", "list", "--json"], env, tmp_path)
        assert [f["key"] for f in json.loads(listed.stdout)] == ["awf"]

    def test_server_down(self, tmp_path: Path) -> None:
        url = f"http://127.0.0.1:{free_port()}"
        done = _phased(["flag", "list"], {"PHASED_SERVER": url, "PHASED_TOKEN": "phd_x"}, tmp_path)
        assert done.returncode == 1
        assert done.stdout == ""
        lines = done.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"error: server: cannot reach the phased server at {url}")
        assert lines[0].endswith("check PHASED_SERVER and that `phased serve` runs")


class TestDoNoHarmTwins:
    """Issue 9's previews and refusals read the same against a server (the service layer decides)."""

    def test_preview_drift_archive(self, twins: Twins, tmp_path: Path) -> None:
        flags = REPO / "examples" / "flags.yaml"
        twins.same("flags", "apply", str(flags))
        twins.same("member", "add", "root", "--role", "admin")
        twins.same("member", "add", "root", "--role", "pm")
        out = twins.same("plan", "validate", str(REPO / "examples" / "plans" / "awf-phase7.yaml"))
        assert "awf_bundle in prod: loses nobody" in out.out
        edited = tmp_path / "edited.yaml"
        edited.write_text(flags.read_text().replace("rollout: 25", "rollout: 10"))
        out = twins.same("flags", "apply", str(edited), "--dry-run")
        assert "loses 15 % of users (25 -> 10 %)" in out.out
        twins.same("flags", "apply", str(edited), "--dry-run", "--json")
        out = twins.same("plan", "apply", str(PLAN))
        assert "new_checkout in prod: gains" in out.out
        refused = twins.same("rollout", "set", "new_checkout", "--percent", "30", "--env", "prod")
        assert refused.code == 1
        assert "--force" in refused.err
        twins.same("rollout", "set", "new_checkout", "--percent", "30", "--env", "prod", "--force")
        assert "paused" in twins.same("rollout", "status", "new_checkout").out
        assert twins.same("flag", "delete", "new_checkout").code == 1
        twins.same("rollout", "rollback", "new_checkout", "--reason", "done")
        twins.same("flag", "delete", "new_checkout")
        twins.same("flag", "list", "--archived")
        twins.same("flag", "restore", "new_checkout")
        twins.same("audit", "recent", "-n", "30", "--json")


TRIGGER_TOKEN = re.compile(r"phd_trg_[A-Za-z0-9_-]+")


class TestTriggerTwins:
    """``phased triggers`` goes through the Backend: create, list and revoke read the same."""

    @staticmethod
    def _created(twins: Twins, *args: str) -> tuple[str, str]:
        """Create both ways: the same output but the random token; (local, server) token."""
        ran = {r: twins.run("triggers", "create", *args, remote=r) for r in (False, True)}
        local, remote = ran[False], ran[True]
        assert remote.code == local.code == 0, (local, remote)
        assert local.err == remote.err == ""
        assert TRIGGER_TOKEN.sub("<token>", mask(remote.out)) == TRIGGER_TOKEN.sub(
            "<token>", mask(local.out)
        )
        mine, theirs = TRIGGER_TOKEN.search(local.out), TRIGGER_TOKEN.search(remote.out)
        assert mine is not None, local
        assert theirs is not None, remote
        return mine.group(), theirs.group()

    def test_create_list_revoke(self, twins: Twins) -> None:
        twins.same("flag", "create", "bot_smoke")
        mine, theirs = self._created(twins, "bot_smoke", "--match", "team=bots")
        alert = {"name": "smoke", "labels": {"team": "bots"}}
        fired = twins.server.client(anonymous=True).post(
            f"/api/v1/triggers/fire/{theirs}", json=alert
        )
        assert fired.status_code == 202, fired.text  # the token printed is the server's own
        with open_store(twins.local_db) as store:  # the same history on both sides
            assert alert_triggers.fire(store, mine, alert).matched == 1
        self._created(twins, "*", "--name", "any", "--action", "rollback", "--json")
        for listing in (
            ("triggers", "list"),
            ("triggers", "list", "--json"),
            ("triggers", "list", "bot_smoke", "--json"),
        ):
            twins.same(*listing)
        out = twins.same("triggers", "revoke", "bot_smoke", "alertmanager")
        assert out.out == "revoked trigger alertmanager on bot_smoke\n"
        twins.same("triggers", "revoke", "*", "any")
        out = twins.same("triggers", "list")
        assert "bot_smoke alertmanager: plan on_alert, team=bots, revoked" in out.out
        twins.same("audit", "recent", "--action", "trigger.", "--json")

    def test_refusals_are_the_same_line(self, twins: Twins) -> None:
        twins.same("flag", "create", "bot_smoke")
        self._created(twins, "bot_smoke")
        for refused in (
            ("triggers", "create", "bot_smoke"),
            ("triggers", "create", "nope"),
            ("triggers", "create", "bot_smoke", "--name", "x", "--action", "explode"),
            ("triggers", "create", "bot_smoke", "--name", "Bad Name"),
            ("triggers", "revoke", "bot_smoke", "nobody"),
        ):
            out = twins.same(*refused)
            assert out.code == 1, (refused, out)
            assert out.err.startswith("error: "), out.err
            assert out.err.count("\n") == 1, out.err
        assert twins.same("triggers", "create", "bot_smoke", "--match", "x").code == 2

    def test_viewer_lists_but_does_not_create(self, twins: Twins) -> None:
        viewer = {"PHASED_TOKEN": twins.server.token("viewer", name="vic")}
        twins.run("flag", "create", "bot_smoke", remote=True)
        out = twins.run("triggers", "create", "bot_smoke", remote=True, env=viewer)
        assert out.code == 1
        assert out.err.startswith("error: "), out.err
        assert out.err.count("\n") == 1, out.err
        listed = twins.run("triggers", "list", "--json", remote=True, env=viewer)
        assert (listed.code, json.loads(listed.out)) == (0, [])


class TestRetireTwins:
    """``phased flag retire`` and ``flag stale`` go through the Backend: the same checks and lists.

    The code references are counted on the client either way (``--code``),
    so both sides scan the same directory.
    """

    ONE_STAGE = "flag: awf\nenvironment: prod\nstages:\n  - name: full\n    audience: 100\n"

    @staticmethod
    def _both(twins: Twins, change: Callable[[Store], object], *, days_ago: float = 0) -> None:
        """The same change on both stores (what no command makes), dated ``days_ago`` back."""
        when = datetime.now(UTC) - timedelta(days=days_ago)
        for url in (twins.local_db, twins.server.store.url):
            with open_store(url, environments=ENVIRONMENTS, clock=lambda: when) as store:
                change(store)
        twins.server.wait_for_revision()

    def test_refused_then_retired(self, twins: Twins, tmp_path: Path) -> None:
        reads, clean = tmp_path / "reads", tmp_path / "clean"
        for folder, text in ((reads, "client.is_enabled('awf')\n"), (clean, "x = 1\n")):
            folder.mkdir()
            (folder / "app.py").write_text(text)
        twins.same("flag", "create", "awf")
        checked = twins.same("flag", "retire", "awf", "--check", "--code", str(reads))
        assert checked.code == 1
        assert checked.out.splitlines()[-1] == "✗ code: 1 reference(s) still read the flag"
        twins.same("flag", "retire", "awf", "--check", "--json")
        refused = twins.same("flag", "retire", "awf", "--code", str(reads))
        assert refused.code == 1
        assert refused.err.startswith("error: flag: cannot retire 'awf' yet: full: ")
        assert "code: 1 reference(s) still read the flag" in refused.err
        assert twins.same("flag", "retire", "nope", "--check").code == 1
        assert twins.same("flag", "retire", "awf", "--value", "b", "--check").code == 1
        for env in ENVIRONMENTS:
            twins.same("flag", "enable", "awf", "--env", env)
            twins.same("flag", "set-default", "awf", "on", "--env", env)
        (tmp_path / "plan.yaml").write_text(self.ONE_STAGE)
        twins.same("member", "add", "root", "--role", "admin")
        twins.same("plan", "apply", str(tmp_path / "plan.yaml"))
        twins.same("rollout", "advance", "awf", "--force")
        self._both(twins, lambda store: report(
            store, actor="ci", suite="awf", build="v1", mode="test", passed=True,
            counts={}, failures=[], flag="awf",
        ))  # fmt: skip
        args = ("flag", "retire", "awf", "--days", "0", "--code", str(clean))
        assert twins.same(*args, "--check").code == 0
        done = twins.same(*args)
        assert done.code == 0, done
        assert done.out.startswith("✓ full: True for everyone in every environment")
        assert "retired awf: True is the permanent default; the flag is archived" in done.out
        twins.same("flag", "list", "--archived", "--json")
        twins.same("audit", "recent", "-n", "3", "--json")
        gone = twins.same("flag", "retire", "awf", "--force", "--json")
        assert gone.code == 1

    def test_forced_retirement_json(self, twins: Twins) -> None:
        twins.same("flag", "create", "old", "--variants", "a=50,b=50")
        out = twins.same("flag", "retire", "old", "--value", "b", "--force", "--json")
        assert json.loads(out.out)["forced"] is True
        twins.same("audit", "recent", "-n", "1", "--json")

    def test_stale(self, twins: Twins) -> None:
        assert "no stale flag" in twins.same("flag", "stale").out
        self._both(twins, lambda store: create_flag(store, actor="root", key="unused"), days_ago=40)

        def done(store: Store) -> None:
            create_flag(store, actor="root", key="done")
            for env in ENVIRONMENTS:
                set_enabled(store, actor="root", key="done", environment=env, enabled=True)
                set_default(store, actor="root", key="done", environment=env, value="on")

        self._both(twins, done, days_ago=35)
        twins.same("flag", "create", "fresh")
        out = twins.same("flag", "stale")
        assert out.out.splitlines() == [
            "done: on for everyone in every environment, unchanged for 30+ days: retire it",
            "unused: no outcome recorded for 30+ days (never) and unchanged: unused?",
        ]
        listed = json.loads(twins.same("flag", "stale", "--json").out)
        assert [row["flag"] for row in listed] == ["done", "unused"]
        assert listed[0]["last_change"] is not None
        longer = twins.same("flag", "stale", "--days", "36")
        assert (
            longer.out
            == "unused: no outcome recorded for 36+ days (never) and unchanged: unused?\n"
        )


class TestRolloutLogTwins:
    """``phased hooks log`` and ``phased sources log`` read the same record locally and remotely."""

    @staticmethod
    def _both(twins: Twins, record: Callable[[Store], object]) -> None:
        """The same history on both sides: the service calls on each store."""
        with open_store(twins.local_db, environments=("dev", "staging", "prod")) as store:
            record(store)
        record(twins.server.store)

    def test_runs_and_queries(self, twins: Twins) -> None:
        self._both(twins, record_history)
        out = twins.same("hooks", "log", "bot_smoke")
        assert out.code == 0, out
        assert "full pre_stage smoke: failed after 1 attempt(s) — exit 1: nope" in out.out
        assert out.out.count("\n") == 2
        listed = json.loads(twins.same("hooks", "log", "bot_smoke", "--json").out)
        assert [(r["hook"], r["status"]) for r in listed] == [
            ("smoke", "failed"),
            ("gate", "passed"),
        ]
        out = twins.same("sources", "log", "bot_smoke")
        assert "canary prom control 8 ms" in out.out
        assert "inconclusive: timed out after 5 s" in out.out
        assert out.out.count("\n") == 3
        queried = json.loads(twins.same("sources", "log", "bot_smoke", "--json").out)
        assert [q["latency_ms"] for q in queried] == [5000.2, 8.0, 13.5]
        assert twins.same("sources", "log", "bot_smoke", "--limit", "1").out.count("\n") == 1

    def test_nothing_yet_and_refusals(self, twins: Twins) -> None:
        refused = twins.same("hooks", "log", "bot_smoke")
        assert refused.code == 1
        assert refused.err.startswith("error: "), refused.err
        assert twins.same("sources", "log", "bot_smoke").code == 1
        self._both(twins, lambda store: start_rollout(store, "bot_smoke"))
        out = twins.same("hooks", "log", "bot_smoke")
        assert out.out == "no hook runs for the rollout of bot_smoke (#1)\n"
        out = twins.same("sources", "log", "bot_smoke")
        assert out.out == "no source queries for the rollout of bot_smoke (#1)\n"
        assert twins.same("sources", "log", "bot_smoke", "--json").out == "[]\n"
        assert twins.same("sources", "log", "bot_smoke", "--limit", "0").code == 2
