"""service.alerts on both backends: the stored config, its versions and the workers following it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from phased.alerts.config import parse_alerts_config
from phased.alerts.live import LiveAlertWorker
from phased.alerts.model import Alert, Severity
from phased.alerts.stored import effective_config
from phased.alerts.worker import AlertWorker
from phased.errors import ConflictError, ValidationError
from phased.service import alerts, audit
from phased.store.engine import Store
from phased.store.outbox import Outbox

LOG = {"channels": {"a": {"kind": "log"}}}


class RecordingNotifier:
    """A notifier that keeps what it was given."""

    kind: ClassVar[str] = "log"

    def __init__(self, name: str) -> None:
        self.name = name
        self.alerts: list[Alert] = []

    def post(self, alert: Alert) -> None:
        self.alerts.append(alert)


class TestSetConfig:
    """Stored documents are versioned, validated, audited and win over the file."""

    def test_versions_and_conflicts(self, store: Store, tmp_path: Path) -> None:
        file = tmp_path / "alerts.yaml"
        file.write_text("channels:\n  fromfile: {kind: log}\n", encoding="utf-8")
        assert alerts.get_config(store, file=file).origin == "file"
        first = alerts.set_config(store, actor="ann", document=LOG, version=0, file=file)
        assert (first.origin, first.version, first.updated_by) == ("api", 1, "ann")
        with store.read() as conn:
            source, config = effective_config(conn, file)
        assert (source.origin, sorted(config.channels)) == ("api", ["a"])
        with pytest.raises(ConflictError):
            alerts.set_config(store, actor="bob", document=LOG, version=0, file=file)
        second = alerts.set_config(store, actor="bob", document={}, version=1, file=file)
        assert second.version == 2
        entries = audit.recent(store, action="alerts.config")
        assert [(e.actor, e.details["version"]) for e in entries] == [("bob", 2), ("ann", 1)]
        assert entries[1].details["before"] is None
        assert entries[1].details["before_origin"] == "file"

    def test_a_broken_file_does_not_block_storing_a_fix(self, store: Store, tmp_path: Path) -> None:
        file = tmp_path / "alerts.yaml"
        file.write_text("channels: [unclosed\n", encoding="utf-8")
        stored = alerts.set_config(store, actor="ann", document=LOG, version=0, file=file)
        assert stored.version == 1
        assert alerts.get_config(store, file=file).origin == "api"

    def test_refusals_change_nothing(self, store: Store) -> None:
        before = store.dump()
        with pytest.raises(ValidationError, match="unknown channel kind"):
            alerts.set_config(
                store, actor="ann", document={"channels": {"a": {"kind": "x"}}}, version=0
            )
        with pytest.raises(ValidationError, match="no alert channel"):
            alerts.set_config(store, actor="ann", document={}, version=0, require_channels=True)
        assert store.dump() == before


class TestWorkersFollow:
    """Two workers on one database (two replicas) both pick up a stored change."""

    def test_two_replicas(self, store: Store, open_another: object) -> None:
        other: Store = open_another()  # type: ignore[operator]
        a, b = RecordingNotifier("a"), RecordingNotifier("b")
        workers = [
            LiveAlertWorker(
                AlertWorker(
                    parse_alerts_config(LOG),
                    Outbox(s.engine),
                    enabled=True,
                    notifiers={"a": a, "b": b},
                ),
                s,
                file=None,
                version=0,
            )
            for s in (store, other)
        ]
        both = {
            "channels": {"a": {"kind": "log"}, "b": {"kind": "log", "severities": ["critical"]}}
        }
        alerts.set_config(store, actor="ann", document=both, version=0)
        for worker in workers:
            assert worker.refresh() is True
            assert sorted(worker.channels) == ["a", "b"]
            assert worker.refresh() is False
        workers[1].worker.submit(Alert(severity=Severity.CRITICAL, message="down"))
        workers[1].run_once()
        assert [x.message for x in b.alerts] == ["down"]

    def test_a_bad_document_keeps_the_previous_config(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HOOK_URL_FOR_TEST", "http://127.0.0.1:9/h")
        worker = LiveAlertWorker(
            AlertWorker(parse_alerts_config(LOG), Outbox(store.engine), enabled=True),
            store,
            file=None,
            version=0,
        )
        document = {"channels": {"h": {"kind": "webhook", "url": "${HOOK_URL_FOR_TEST}"}}}
        alerts.set_config(store, actor="ann", document=document, version=0)
        monkeypatch.delenv("HOOK_URL_FOR_TEST")
        assert worker.refresh() is False
        assert sorted(worker.channels) == ["a"]
