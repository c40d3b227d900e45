"""Opening, migrating and configuring the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from phased.errors import ConfigurationError
from phased.store.engine import Store, head_revision, open_store
from phased.store.tables import metadata


class TestOpenStore:
    """A store opens on either backend, migrated to the latest revision."""

    def test_fresh_store_is_migrated_and_empty(self, store: Store) -> None:
        dump = store.dump()
        assert dump["alembic_version"] == [{"version_num": head_revision()}]
        assert dump["flags"] == dump["segments"] == dump["audit_log"] == []
        assert store.revision() == 0

    def test_reopening_is_idempotent(self, store: Store, database_url: str) -> None:
        before = store.dump()
        with open_store(database_url, environments=store.environments) as again:
            assert again.dump() == before

    def test_migrated_schema_matches_the_table_definitions(self, store: Store) -> None:
        inspector = inspect(store.engine)
        for table in metadata.sorted_tables:
            if table.name not in inspector.get_table_names():
                continue  # a table whose migration is not in this checkout yet
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
        assert {"store_head", "flags", "flag_states", "segments", "audit_log"} <= set(
            inspector.get_table_names()
        )


class TestSqlite:
    """The embedded store runs in WAL mode with a busy timeout."""

    def test_wal_and_busy_timeout(self, sqlite_url: str) -> None:
        with open_store(sqlite_url) as store, store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1

    def test_in_memory_database_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="in-memory"):
            open_store("sqlite://")

    def test_missing_directory_is_named(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="does not exist") as info:
            open_store(f"sqlite:///{tmp_path / 'nope' / 'phased.db'}")
        assert info.value.field == "database_url"


class TestBadUrls:
    """An unusable database URL is one readable error, with the password masked."""

    def test_unsupported_backend(self) -> None:
        with pytest.raises(ConfigurationError, match="unsupported database 'mysql'"):
            open_store("mysql://u@localhost/db")

    def test_unparseable_url(self) -> None:
        with pytest.raises(ConfigurationError, match="cannot read the database URL"):
            open_store("not a url")

    def test_unreachable_postgres_masks_the_password(self) -> None:
        with pytest.raises(ConfigurationError) as info:
            open_store("postgresql+psycopg://u:s3cret@127.0.0.1:1/db?connect_timeout=2")
        assert "s3cret" not in str(info.value)
        assert "cannot open the store" in str(info.value)
        assert info.value.field == "database_url"

    def test_unmigrated_store_without_migrate_is_an_error(self, sqlite_url: str) -> None:
        with pytest.raises(ConfigurationError, match="cannot open the store"):
            open_store(sqlite_url, migrate=False)
