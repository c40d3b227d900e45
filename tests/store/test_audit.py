"""The audit chain: appended in order, linked by hashes, verified end to end."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from phased.store import audit
from phased.store.audit import GENESIS, canonical_json, entry_hash
from phased.store.engine import Store
from phased.testing import FrozenClock


def _append(store: Store, n: int, clock: FrozenClock, actor: str = "alice") -> None:
    for i in range(n):
        with store.write() as conn:
            audit.append(
                conn,
                ts=clock.datetime(),
                actor=actor,
                action="flag.enable" if i % 2 else "rollout.set",
                entity=f"flag:f{i}",
                details={"before": {"rollout": i}, "after": {"rollout": i + 1}},
            )
        clock.advance(60)


def _unguard(store: Store) -> None:
    # Someone with database access removes the append-only triggers first.
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


class TestAppend:
    """Entries get consecutive ids and each names the previous entry's hash."""

    def test_chain_links(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 3, clock)
        with store.read() as conn:
            entries = audit.query(conn, newest_first=False)
        assert [e.id for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == GENESIS
        assert entries[1].prev_hash == entries[0].hash
        assert entries[2].prev_hash == entries[1].hash

    def test_hash_is_sha256_of_previous_hash_and_canonical_entry(
        self, store: Store, clock: FrozenClock
    ) -> None:
        _append(store, 1, clock)
        with store.read() as conn:
            (entry,) = audit.query(conn)
        again = entry_hash(
            GENESIS,
            id=1,
            ts=entry.ts,
            actor=entry.actor,
            action=entry.action,
            entity=entry.entity,
            details=json.dumps(entry.details),  # any spelling of the same JSON
        )
        assert again == entry.hash

    def test_canonical_json_ignores_key_order(self) -> None:
        assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical_json(
            {"a": [1, {"c": 3, "d": 2}], "b": 1}
        )

    def test_blank_actor_is_refused(self, store: Store, clock: FrozenClock) -> None:
        with pytest.raises(Exception, match="actor"), store.write() as conn:
            audit.append(conn, ts=clock.datetime(), actor=" ", action="x", entity="y", details={})
        assert store.dump()["audit_log"] == []


class TestAppendOnly:
    """The database itself refuses to update or delete an entry."""

    def test_update_is_refused(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 1, clock)
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET actor = 'mallory'"))

    def test_delete_is_refused(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 1, clock)
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))


class TestVerify:
    """verify() recomputes the chain and names the first entry that does not match."""

    def test_intact_chain(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 4, clock)
        with store.read() as conn:
            report = audit.verify(conn)
        assert report.ok
        assert report.entries == 4
        assert "ok: 4 entries" in report.summary()

    def test_empty_chain_is_intact(self, store: Store) -> None:
        with store.read() as conn:
            assert audit.verify(conn).ok

    @pytest.mark.parametrize(
        "edit",
        [
            "UPDATE audit_log SET actor = 'mallory' WHERE id = 3",
            'UPDATE audit_log SET details = \'{"after":{"rollout":100}}\' WHERE id = 3',
            "UPDATE audit_log SET hash = '" + "f" * 64 + "' WHERE id = 3",
        ],
    )
    def test_hand_edited_entry_is_named(self, store: Store, clock: FrozenClock, edit: str) -> None:
        _append(store, 5, clock)
        _unguard(store)
        with store.engine.begin() as conn:
            conn.exec_driver_sql(edit)
        with store.read() as conn:
            report = audit.verify(conn)
        assert not report.ok
        assert report.first_bad == 3
        assert "entry 3" in report.summary()

    def test_removed_middle_entry_is_named(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 4, clock)
        _unguard(store)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
        with store.read() as conn:
            report = audit.verify(conn)
        assert (report.ok, report.first_bad) == (False, 2)
        assert "missing" in report.problem

    def test_removed_tail_is_detected(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 4, clock)
        _unguard(store)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = 4"))
        with store.read() as conn:
            report = audit.verify(conn)
        assert (report.ok, report.first_bad) == (False, 4)
        assert "removed" in report.problem


class TestQueries:
    """Recent, by actor, by action prefix, by entity, by time range."""

    def test_filters(self, store: Store, clock: FrozenClock) -> None:
        start = clock.datetime()
        _append(store, 4, clock, actor="alice")
        _append(store, 2, clock, actor="bob")
        with store.read() as conn:
            assert [e.id for e in audit.query(conn, limit=2)] == [6, 5]
            assert {e.actor for e in audit.query(conn, actor="bob")} == {"bob"}
            assert len(audit.query(conn, action="rollout.")) == 3
            assert len(audit.query(conn, action="rollout")) == 0  # no dot: exact action
            assert [e.id for e in audit.query(conn, entity="flag:f1")] == [6, 2]
            assert [e.id for e in audit.query(conn, entity="f1")] == [6, 2]
            window = audit.query(
                conn, since=start + timedelta(minutes=1), until=start + timedelta(minutes=3)
            )
            assert [e.id for e in window] == [3, 2]

    def test_like_wildcards_in_filters_are_literal(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 2, clock)
        with store.read() as conn:
            assert audit.query(conn, action="%.") == []
            assert audit.query(conn, entity="f_") == []

    def test_entries_stream_oldest_first(self, store: Store, clock: FrozenClock) -> None:
        _append(store, 3, clock)
        with store.read() as conn:
            assert [e.id for e in audit.iter_entries(conn)] == [1, 2, 3]
            assert audit.count(conn) == 3
