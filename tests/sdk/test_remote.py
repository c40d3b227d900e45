"""``Client(url=..., token=...)``: fetch, live updates, backup, safe defaults, back-off, fork."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.errors import ConfigurationError
from phased.sdk.client import Client
from phased.sdk.remote import parse_payload
from phased.sdk.transport import Backoff, ServerEvent, iter_events, write_atomic

from .conftest import ENV, SDK_TOKEN, FakeSdkServer, PhasedServer, wait_for

ON = """
flags:
  checkout:
    environments:
      prod: {rollout: 100}
  layout:
    variants: {classic: 50, compact: 50}
    off_variant: classic
    environments:
      prod: {default: compact}
"""
OFF = ON.replace("rollout: 100", "enabled: false")


def remote(server_url: str, tmp_path: Path, **kwargs: object) -> Client:
    options: dict[str, object] = {
        "url": server_url,
        "token": SDK_TOKEN,
        "environment": ENV,
        "backup_path": tmp_path / "backup.json",
        "poll_interval": 0.5,
        "wait_ready": 5.0,
    }
    options.update(kwargs)
    return Client(**options)  # type: ignore[arg-type]


class TestRealServer:
    """Against the real phased server: the flag set arrives, 304s cost nothing, changes stream."""

    def test_fetches_the_environment_flag_set(self, phased_server: PhasedServer) -> None:
        phased_server.put("/flags/checkout/environments/prod/enabled", {"enabled": True})
        phased_server.put("/flags/checkout/environments/prod/rollout", {"percent": 100})
        time.sleep(0.2)  # the server's revision poll
        with Client(
            url=phased_server.url,
            token=phased_server.sdk_token,
            environment=ENV,
            backup_path=False,
            wait_ready=5,
        ) as client:
            assert client.sync is not None
            assert client.sync.ready
            assert client.sync.status.source == "server"
            assert client.is_enabled("checkout", user="u-1") is True
            assert client.evaluate("checkout", user="u-1").reason.startswith("rollout:")
            etag = client.sync.status.etag
            assert etag
            assert client.sync.refresh() is False  # If-None-Match -> 304
            assert client.sync.status.not_modified >= 1
            assert client.sync.status.etag == etag

    def test_change_through_the_api_seen_within_one_second(
        self, phased_server: PhasedServer
    ) -> None:
        with Client(
            url=phased_server.url,
            token=phased_server.sdk_token,
            environment=ENV,
            backup_path=False,
            wait_ready=5,
        ) as client:
            assert client.sync is not None
            assert wait_for(lambda: client.sync is not None and client.sync.status.stream_connected)
            assert client.is_enabled("checkout", user="u-1") is False
            changed = time.monotonic()
            phased_server.put("/flags/checkout/environments/prod/enabled", {"enabled": True})
            phased_server.put("/flags/checkout/environments/prod/rollout", {"percent": 100})
            assert wait_for(lambda: client.is_enabled("checkout", user="u-1"), timeout=5)
            assert time.monotonic() - changed < 1.0

    def test_wrong_token_keeps_safe_defaults(self, phased_server: PhasedServer) -> None:
        with Client(
            url=phased_server.url,
            token="phs_not_a_token",
            environment=ENV,
            backup_path=False,
            wait_ready=5,
        ) as client:
            assert client.sync is not None
            assert not client.sync.ready
            assert "401" in (client.sync.status.last_error or "")
            assert client.is_enabled("checkout", user="u-1") is False


class TestResilience:
    """Server down, no backup, corrupt backup, a server that hangs: evaluation always answers."""

    def test_backup_is_written_and_used_when_the_server_is_down(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(ON)
        with remote(fake_server.url, tmp_path) as client:
            assert client.is_enabled("checkout", user="u-1") is True
        saved = json.loads((tmp_path / "backup.json").read_text())
        assert saved["environment"] == ENV
        assert [p.name for p in tmp_path.iterdir()] == ["backup.json"]  # no temp file left
        fake_server.stop()
        with remote(fake_server.url, tmp_path) as client:
            assert client.sync is not None
            assert client.sync.status.source == "backup"
            assert client.is_enabled("checkout", user="u-1") is True
            assert client.variant("layout", user="u-1") == "compact"
            assert client.sync.status.consecutive_failures >= 1

    def test_no_server_no_backup_gives_safe_defaults(self, tmp_path: Path) -> None:
        url = f"http://127.0.0.1:{_closed_port()}"
        with remote(url, tmp_path) as client:
            assert client.is_enabled("checkout", user="u-1") is False
            assert client.variant("layout", user="u-1") is None
            assert client.evaluate("checkout", user="u-1").reason == "unknown_flag"
            assert client.sync is not None
            assert client.sync.status.source == "none"
            assert "ConnectError" in (client.sync.status.last_error or "")

    def test_corrupt_backup_is_ignored(self, tmp_path: Path) -> None:
        (tmp_path / "backup.json").write_text("{not json")
        url = f"http://127.0.0.1:{_closed_port()}"
        with remote(url, tmp_path) as client:
            assert client.is_enabled("checkout", user="u-1") is False
            assert client.sync is not None
            assert "unreadable backup" in (client.sync.status.backup_error or "")

    def test_backup_of_another_environment_is_ignored(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(ON)
        remote(fake_server.url, tmp_path).close()
        fake_server.stop()
        with remote(fake_server.url, tmp_path, environment="staging") as client:
            assert client.is_enabled("checkout", user="u-1") is False
            assert "not 'staging'" in (client.sync.status.backup_error or "")  # type: ignore[union-attr]

    def test_construction_does_not_wait_on_a_hanging_server(self, tmp_path: Path) -> None:
        # A socket that accepts connections and never answers.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            started = time.monotonic()
            client = remote(url, tmp_path, wait_ready=0.2)
            built = time.monotonic() - started
            started = time.monotonic()
            for _ in range(1000):
                client.is_enabled("checkout", user="u-1")
            evaluated = time.monotonic() - started
            client.close()
        assert built < 1.5
        assert evaluated < 0.5

    def test_reconnects_when_the_server_comes_back(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(OFF)
        with remote(fake_server.url, tmp_path) as client:
            assert client.sync is not None
            assert wait_for(lambda: client.sync is not None and client.sync.status.stream_connected)
            fake_server.stop()
            assert wait_for(lambda: client.sync is not None and client.sync.status.failures > 0)
            fake_server.set_flags(ON)
            fake_server.start()
            assert wait_for(lambda: client.is_enabled("checkout", user="u"), timeout=10)
            assert wait_for(lambda: client.sync is not None and client.sync.status.stream_connected)
            assert client.sync.status.stream_connects >= 2

    def test_a_broken_flag_set_keeps_the_last_good_one(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(ON)
        with remote(fake_server.url, tmp_path) as client:
            fake_server.set_flags("flags: {checkout: {environments: {prod: {rollout: 250}}}}")
            assert client.sync is not None
            assert wait_for(lambda: "unusable payload" in (client.sync.status.last_error or ""))
            assert client.is_enabled("checkout", user="u-1") is True


class TestLiveUpdates:
    """The event stream delivers changes at once; without it, polling does."""

    def test_stream_event_triggers_a_conditional_fetch(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(OFF)
        with remote(fake_server.url, tmp_path, poll_interval=60) as client:
            assert wait_for(lambda: client.sync is not None and client.sync.status.stream_connected)
            fake_server.set_flags(ON, stages={"checkout": "canary-5"})
            assert wait_for(lambda: client.is_enabled("checkout", user="u"), timeout=1.0)
            assert client.stages == {"checkout": "canary-5"}
        # The initial event named the ETag the client had: no second full fetch.
        assert fake_server.state.flag_statuses.count(200) == 2

    def test_polling_when_the_server_has_no_stream(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.state.stream_enabled = False
        fake_server.set_flags(OFF)
        with remote(fake_server.url, tmp_path, poll_interval=0.2) as client:
            assert wait_for(lambda: 304 in fake_server.state.flag_statuses, timeout=3)
            fake_server.set_flags(ON)
            assert wait_for(lambda: client.is_enabled("checkout", user="u"), timeout=3)
            assert client.sync is not None
            assert not client.sync.status.stream_connected

    def test_update_listeners_run_on_each_swap(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(OFF)
        seen: list[bool] = []
        with remote(fake_server.url, tmp_path) as client:
            client.on_update(lambda: seen.append(client.is_enabled("checkout", user="u")))
            assert wait_for(lambda: client.sync is not None and client.sync.status.stream_connected)
            fake_server.set_flags(ON)
            assert wait_for(lambda: seen == [True])


class TestConfiguration:
    """A client pointed at a server needs a token."""

    def test_missing_token(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from phased.settings import get_settings

        monkeypatch.delenv("PHASED_TOKEN", raising=False)
        get_settings.cache_clear()
        with Client(url="http://127.0.0.1:1", environment=ENV, backup_path=False) as client:
            assert client.is_enabled("checkout") is False
            assert "PHASED_TOKEN" in (client.load_error or "")
        with pytest.raises(ConfigurationError, match="PHASED_TOKEN"):
            Client(url="http://127.0.0.1:1", environment=ENV, strict=True)
        get_settings.cache_clear()

    def test_injected_http_client_is_used_and_left_open(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(ON)
        seen: list[str] = []
        http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})
        with remote(fake_server.url, tmp_path, http=http) as client:
            assert client.is_enabled("checkout", user="u")
        assert "/api/v1/sdk/flags" in seen
        assert not http.is_closed
        http.close()


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
class TestFork:
    """After os.fork() the child syncs on its own connection; the parent's is untouched."""

    def test_child_restarts_sync_on_its_own_socket(
        self, fake_server: FakeSdkServer, tmp_path: Path
    ) -> None:
        fake_server.set_flags(OFF)
        client = remote(fake_server.url, tmp_path, backup_path=False)
        assert client.sync is not None
        assert wait_for(lambda: fake_server.state.open_streams == 1)
        parent_thread = client.sync._thread
        report = tmp_path / "child.json"
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                sync = client.sync
                fresh = sync._thread is not parent_thread and sync._thread.is_alive()
                saw = wait_for(lambda: client.is_enabled("checkout", user="u"), timeout=5)
                report.write_text(json.dumps({"fresh_thread": fresh, "saw_change": saw}))
                code = 0
            finally:
                os._exit(code)
        try:
            # The child opens its own stream; only then does the change happen.
            assert wait_for(lambda: fake_server.state.open_streams == 2, timeout=5)
            fake_server.set_flags(ON)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert json.loads(report.read_text()) == {"fresh_thread": True, "saw_change": True}
            peers = fake_server.state.stream_peers
            assert len(peers) == 2
            assert len(set(peers)) == 2  # two connections, never one shared socket
            # The parent's stream survived the child's exit and still delivers.
            assert wait_for(lambda: client.is_enabled("checkout", user="u"), timeout=2)
            assert client.sync.status.stream_connects == 1
        finally:
            client.close()


class TestWire:
    """Payload parsing, event parsing, back-off and atomic writes."""

    def test_events(self) -> None:
        lines = [
            ": ping",
            "event: flags",
            "id: 7",
            'data: {"etag":',
            'data: "x"}',
            "",
            "data: y\r",
            "",
        ]
        assert list(iter_events(lines)) == [
            None,
            ServerEvent("flags", '{"etag":\n"x"}', "7"),
            ServerEvent("message", "y", "7"),
        ]

    def test_bare_flags_document_is_accepted(self) -> None:
        flagset, stages = parse_payload({"flags": {"a": {"environments": {"prod": {}}}}}, "x")
        assert list(flagset.flags) == ["a"]
        assert stages == {}

    def test_invalid_document_names_the_field(self) -> None:
        with pytest.raises(Exception, match="rollout"):
            parse_payload(
                {"flagset": {"flags": {"a": {"environments": {"prod": {"rollout": 101}}}}}}, "x"
            )

    @given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**32))
    def test_backoff_is_jittered_and_capped(self, attempt: int, seed: int) -> None:
        import random

        backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(seed))
        delay = backoff.delay(attempt)
        assert backoff.floor <= delay <= max(backoff.floor, min(30.0, 0.5 * 2 ** (attempt - 1)))

    def test_backoff_spreads_clients(self) -> None:
        import random

        delays = {round(Backoff(rng=random.Random(i)).delay(5), 3) for i in range(50)}
        assert len(delays) > 40  # fifty clients do not reconnect in lockstep

    def test_atomic_write_never_shows_half_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "b.json"
        big = [json.dumps({"n": i, "pad": "x" * 200_000}).encode() for i in range(2)]
        write_atomic(path, big[0])
        stop = threading.Event()
        bad: list[int] = []

        def read() -> None:
            while not stop.is_set():
                data = path.read_bytes()
                if data not in big:
                    bad.append(len(data))

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(40):
            write_atomic(path, big[i % 2])
        stop.set()
        reader.join()
        assert bad == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
