"""Alembic environment: run programmatically by :func:`phased.store.engine.upgrade`.

Users never need an ``alembic.ini``: the connection arrives through
``config.attributes``. Developers generating a new revision can point
``sqlalchemy.url`` at a scratch database in a throwaway config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, text

from phased.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two replicas starting together must not both create the tables.
            lock_key = int(config.attributes.get("lock_key", 0))
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
        context.run_migrations()


def run_online() -> None:
    """Migrate over the given connection (or one made from ``sqlalchemy.url``)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("phased migrations run online only (phased.store.engine.upgrade)")
run_online()
