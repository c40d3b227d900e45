"""`phased alerts` against a server (PHASED_SERVER + PHASED_TOKEN): list, test, config.

The outbox listing must read the same as against the database; test sends
and the stored configuration go through the server's API, with a real HTTP
receiver on 127.0.0.1 standing in for the webhook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.conftest import Receiver, Reply
from cli.test_remote_mode import Twins, mask, twins
from phased.alerts.config import parse_alerts_config
from phased.alerts.model import Alert, Severity
from phased.alerts.stored import read_stored
from phased.alerts.worker import AlertWorker
from phased.store.engine import Store, open_store
from phased.store.outbox import Outbox, enqueue
from server.conftest import server, start_server

__all__ = ["server", "start_server", "twins"]  # fixtures used here

SECRET = "/hooks/T0SECRET/s3cr3tv4lue"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1."""
    found = Receiver()
    found.thread.start()
    yield found
    found.release.set()
    found.server.shutdown()
    found.server.server_close()


def config_file(twins: Twins, url: str) -> Path:
    path = twins.cwd / "channels.yaml"
    path.write_text(
        f"channels:\n  hook: {{kind: webhook, url: '{url}', timeout_seconds: 2}}\n"
        "retry: {max_attempts: 1}\n",
        encoding="utf-8",
    )
    return path


def enqueue_two(store: Store) -> None:
    with store.write() as conn:
        enqueue(conn, Alert(severity=Severity.CRITICAL, message="checkout rolled back"))
        enqueue(conn, Alert(severity=Severity.WARNING, message="p95 creeping up"))


class TestList:
    """`alerts list [--failed] [--json]` reads the same through the server as from the database."""

    def test_same_output(self, twins: Twins, receiver: Receiver) -> None:
        receiver.default = Reply(status=500)
        path = config_file(twins, receiver.url(SECRET))
        with open_store(twins.local_db) as local:
            enqueue_two(local)
        enqueue_two(twins.server.store)
        twins.same("alerts", "list")
        # Both sides know the channel (locally the file, on the server the stored copy),
        # so both mask its URL in the delivery errors.
        env = {"PHASED_ALERTS_CONFIG": str(path), "ENABLE_ALERTS": "true"}
        assert twins.run("alerts", "config", "set", str(path), remote=True).code == 0
        delivered = twins.run("alerts", "deliver", "--once", remote=False, env=env)
        assert "failed 2" in delivered.out, delivered
        config = parse_alerts_config(
            {
                "channels": {"hook": {"kind": "webhook", "url": receiver.url(SECRET)}},
                "retry": {"max_attempts": 1},
            }
        )
        AlertWorker(config, Outbox(twins.server.store.engine), enabled=True).drain()
        for args in (
            ("alerts", "list", "--failed"),
            ("alerts", "list", "--json"),
            ("alerts", "list", "--status", "pending"),
            ("alerts", "list", "--limit", "1"),
            ("alerts", "list", "--status", "lost"),
        ):
            local = twins.run(*args, remote=False, env=env)
            remote = twins.run(*args, remote=True)
            assert (local.code, mask(local.out), mask(local.err)) == (
                remote.code,
                mask(remote.out),
                mask(remote.err),
            ), args
        failed = twins.run("alerts", "list", "--failed", remote=True).out
        assert len(failed.splitlines()) == 2
        assert "hook: ***4lue answered 500" in failed
        assert "s3cr3t" not in failed
        listed = json.loads(twins.run("alerts", "list", "--json", remote=True).out)
        assert listed[0]["channels"][0]["channel"] == "hook"
        assert listed[0]["channels"][0]["status"] == "failed"


class TestSendTest:
    """`alerts test --channel` under PHASED_SERVER sends through the server's channel."""

    def test_through_the_server(self, twins: Twins, receiver: Receiver) -> None:
        path = config_file(twins, receiver.url("/hook"))
        assert twins.run("alerts", "config", "set", str(path), remote=True).code == 0
        out = twins.run("alerts", "test", "--channel", "hook", "--message", "hi", remote=True)
        assert (out.code, out.out) == (0, "sent a test alert to hook\n")
        assert [p.body["message"] for p in receiver.accepted("/hook")] == ["hi"]

    def test_refusals(self, twins: Twins, receiver: Receiver) -> None:
        receiver.default = Reply(status=500)
        path = config_file(twins, receiver.url(SECRET))
        assert twins.run("alerts", "config", "set", str(path), remote=True).code == 0
        failed = twins.run("alerts", "test", "--channel", "hook", remote=True)
        assert failed.code == 1
        assert failed.err.startswith("error: channels.hook: ***4lue answered 500")
        assert failed.err.count("\n") == 1
        unknown = twins.run("alerts", "test", "--channel", "nope", remote=True)
        assert unknown.code == 1
        assert unknown.err == (
            "error: channel: no alert channel named 'nope'; configured channels: hook\n"
        )
        both = twins.run("alerts", "test", "--channel", "hook", "--config", str(path), remote=True)
        assert both.code == 2
        assert "drop --config" in both.err

    def test_viewer_may_not(self, twins: Twins) -> None:
        viewer = twins.server.token("viewer", name="vic")
        out = twins.run(
            "alerts", "test", "--channel", "x", remote=True, env={"PHASED_TOKEN": viewer}
        )
        assert out.code == 1
        assert out.err.startswith("error: ")


class TestConfig:
    """`alerts config set FILE` and `show`: stored through the server or in the database."""

    def test_set_and_show_both_ways(self, twins: Twins, receiver: Receiver) -> None:
        path = config_file(twins, receiver.url(SECRET))
        for remote in (False, True):
            shown = twins.run("alerts", "config", "show", remote=remote)
            assert shown.out.startswith("# no alerts configuration"), shown
            stored = twins.run("alerts", "config", "set", str(path), remote=remote)
            assert stored.out == "stored alerts config version 1 (channels: hook)\n", stored
            shown = twins.run("alerts", "config", "show", remote=remote)
            assert shown.out.startswith("# stored through the API: version 1, by root")
            assert "url: '***4lue'" in shown.out
            assert "s3cr3t" not in shown.out
            data = json.loads(twins.run("alerts", "config", "show", "--json", remote=remote).out)
            assert (data["origin"], data["version"]) == ("api", 1)
            stale = twins.run(
                "alerts", "config", "set", str(path), "--expect-version", "0", remote=remote
            )
            assert stale.code == 1
            assert stale.err.startswith("error: version: the alerts config changed since version 0")
        with open_store(twins.local_db) as local:
            for store in (local, twins.server.store):
                with store.read() as conn:
                    found = read_stored(conn)
                assert found is not None
                assert found.document["channels"]["hook"]["url"] == receiver.url(SECRET)

    def test_shown_copy_sent_back_keeps_the_secret(self, twins: Twins, receiver: Receiver) -> None:
        path = config_file(twins, receiver.url(SECRET))
        assert twins.run("alerts", "config", "set", str(path), remote=True).code == 0
        shown = twins.run("alerts", "config", "show", remote=True).out
        edited = twins.cwd / "edited.yaml"
        edited.write_text(shown.replace("max_attempts: 1", "max_attempts: 3"), encoding="utf-8")
        again = twins.run("alerts", "config", "set", str(edited), remote=True)
        assert again.out == "stored alerts config version 2 (channels: hook)\n", again
        with twins.server.store.read() as conn:
            found = read_stored(conn)
        assert found is not None
        assert found.document["channels"]["hook"]["url"] == receiver.url(SECRET)
        assert found.document["retry"] == {"max_attempts": 3}

    def test_invalid_file(self, twins: Twins) -> None:
        bad = twins.cwd / "bad.yaml"
        bad.write_text("channels:\n  x: {kind: pager}\n", encoding="utf-8")
        out = twins.same("alerts", "config", "set", str(bad))
        assert out.code == 1
        assert out.err.startswith("error: channels.x.kind: unknown channel kind 'pager'")
