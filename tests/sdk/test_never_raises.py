"""The SDK never raises into the application, whatever the source (issue 9, repro 5).

Each broken source — a missing file, a malformed file, a directory instead of
a file, an unreachable server, a corrupt backup, a missing token, an
unreachable store, unusable settings — gives a client that serves safe
defaults and logs one warning. ``strict=True`` raises instead (for tests).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from phased import Client
from phased.errors import ConfigurationError, NotFoundError, SourceError
from phased.settings import get_settings

FLAGS = """\
version: 1
environments: [dev, prod]
flags:
  checkout:
    environments:
      prod: {rollout: 100}
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _safe_defaults(client: Client, *, track: bool = True) -> None:
    assert client.is_enabled("checkout", user="u-1") is False
    assert client.variant("checkout", user="u-1") is None
    assert client.evaluate("checkout", user="u-1").reason == "unknown_flag"
    if track:  # (to a server that is down, close() would spend its flush deadline)
        with client.track("checkout", user="u-1") as t:
            assert t.enabled is False


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "phased.sdk" and r.levelno >= 30]


def _broken_files(tmp_path: Path) -> dict[str, Path]:
    malformed = tmp_path / "bad.yaml"
    malformed.write_text("version: 1\nflags:\n  checkout: {environments: {prod: {rollout: 250}}}\n")
    not_yaml = tmp_path / "notyaml.yaml"
    not_yaml.write_text("flags: [unclosed\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    return {
        "missing": tmp_path / "nope.yaml",
        "malformed": malformed,
        "not yaml": not_yaml,
        "not utf-8": binary,
        "a directory": tmp_path,
    }


class TestFromFile:
    """``Client.from_file`` on a file that is not there or not usable."""

    @pytest.mark.parametrize(
        "which", ["missing", "malformed", "not yaml", "not utf-8", "a directory"]
    )
    def test_safe_defaults_and_one_warning(
        self, which: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = _broken_files(tmp_path)[which]
        with caplog.at_level(logging.WARNING, logger="phased.sdk"):
            client = Client.from_file(path, environment="prod")
        with client:
            _safe_defaults(client)
        warned = _warnings(caplog)
        assert len(warned) == 1, warned
        assert str(path) in warned[0]
        assert client.load_error is not None
        assert str(path) in client.load_error

    @pytest.mark.parametrize(
        "which", ["missing", "malformed", "not yaml", "not utf-8", "a directory"]
    )
    def test_strict_raises(self, which: str, tmp_path: Path) -> None:
        path = _broken_files(tmp_path)[which]
        with pytest.raises((OSError, SourceError, UnicodeDecodeError)):
            Client.from_file(path, environment="prod", strict=True)

    def test_a_good_file_still_works(self, tmp_path: Path) -> None:
        path = tmp_path / "flags.yaml"
        path.write_text(FLAGS)
        with Client.from_file(path, environment="prod", strict=True) as client:
            assert client.is_enabled("checkout", user="u-1") is True
            assert client.load_error is None

    def test_strict_raises_on_an_unknown_flag(self, tmp_path: Path) -> None:
        path = tmp_path / "flags.yaml"
        path.write_text(FLAGS)
        with Client.from_file(path, environment="prod", strict=True) as client:
            for call in (client.is_enabled, client.variant, client.evaluate):
                with pytest.raises(NotFoundError, match="chekout"):
                    call("chekout", user="u-1")
        with Client.from_file(path, environment="prod") as lenient:
            assert lenient.is_enabled("chekout", user="u-1") is False


class TestServer:
    """``Client(url=...)``: a server that is down, a corrupt backup, no token."""

    def test_unreachable_server(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        url = f"http://127.0.0.1:{_closed_port()}"
        with caplog.at_level(logging.WARNING, logger="phased.sdk"):
            client = Client(url=url, token="t", environment="prod", backup_path=False)
        with client:
            _safe_defaults(client, track=False)
        with pytest.raises(ConfigurationError, match="no flag set"):
            Client(url=url, token="t", environment="prod", backup_path=False, strict=True)

    @pytest.mark.parametrize(
        "content", [b"{not json", b"\x00\xff", b'{"environment": "prod"}', b"[]", b'"x"']
    )
    def test_corrupt_backup(
        self, content: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        backup = tmp_path / "backup.json"
        backup.write_bytes(content)
        url = f"http://127.0.0.1:{_closed_port()}"
        with caplog.at_level(logging.WARNING, logger="phased.sdk"):
            client = Client(url=url, token="t", environment="prod", backup_path=backup)
        with client:
            _safe_defaults(client, track=False)
            assert "backup" in (client.load_error or "")
        assert sum("backup" in m for m in _warnings(caplog)) == 1
        with pytest.raises(ConfigurationError, match="backup"):
            Client(url=url, token="t", environment="prod", backup_path=backup, strict=True)

    def test_not_a_url(self, tmp_path: Path) -> None:
        with Client(url="::nonsense::", token="t", environment="prod", backup_path=False) as c:
            _safe_defaults(c, track=False)

    def test_missing_token(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("PHASED_TOKEN", raising=False)
        get_settings.cache_clear()
        try:
            with Client(url="http://127.0.0.1:1", environment="prod", backup_path=False) as c:
                _safe_defaults(c)
                assert "PHASED_TOKEN" in (c.load_error or "")
        finally:
            get_settings.cache_clear()


class TestLocalStore:
    """``Client.local``: a store that cannot be reached, settings that cannot be read."""

    def test_unreachable_store(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
        with Client.local(database_url=url, environment="prod", poll_interval=60) as client:
            _safe_defaults(client)
            assert client.load_error is not None
        with pytest.raises(ConfigurationError, match="database_url"):
            Client.local(database_url=url, environment="prod", poll_interval=60, strict=True)

    def test_bad_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PHASED_DATABASE_URL", "")
        monkeypatch.setenv("PHASED_ENVIRONMENTS", "[unclosed")
        get_settings.cache_clear()
        try:
            build: Callable[..., Client] = Client.local
            with build(environment="prod", poll_interval=60) as client:
                _safe_defaults(client)
                assert client.load_error is not None
            with pytest.raises(Exception, match=r"(?i)environments"):
                build(environment="prod", strict=True)
        finally:
            get_settings.cache_clear()
