"""Migration 0008 creates exactly the tables of issue 12 that the code declares, and goes down."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from phased.store import Store, upgrade
from phased.store.engine import MIGRATIONS, create_store_engine
from phased.store.tables import metadata

TABLES = ("source_queries", "hook_runs", "alert_triggers")


class TestMigration0008:
    """source_queries, hook_runs and alert_triggers."""

    def test_matches_metadata(self, store: Store) -> None:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [
                d for d in compare_metadata(context, metadata) if any(t in repr(d) for t in TABLES)
            ]
        assert diff == []

    def test_up_and_down(self, database_url: str) -> None:
        engine = create_store_engine(database_url)
        try:
            upgrade(engine, "0008")
            assert set(TABLES) <= set(inspect(engine).get_table_names())
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            with engine.connect() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "0007")
                conn.commit()
            assert not set(TABLES) & set(inspect(engine).get_table_names())
            upgrade(engine, "0008")
            assert set(TABLES) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
