"""Shared fixtures: a fresh store on SQLite and on PostgreSQL.

``database_url`` is parametrised over both backends; ``store`` opens (and
migrates) it. Each PostgreSQL test gets its own schema, dropped afterwards.
PostgreSQL tests skip when the server is unreachable, except under
``CI=true`` where they fail: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, settings

from phased.store.engine import Store, open_store
from phased.testing import FrozenClock

# Properties are about behaviour, not speed: on a shared 2-core machine a
# single example can take longer than hypothesis' default 200 ms deadline.
settings.register_profile("phased", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("phased")

POSTGRES_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENVIRONMENTS = ("dev", "staging", "prod")

_postgres_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); checked once per session."""
    if "reason" not in _postgres_state:
        try:
            import psycopg

            with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
                conn.execute("SELECT 1")
            _postgres_state["reason"] = None
        except Exception as exc:
            _postgres_state["reason"] = f"PostgreSQL at 127.0.0.1:5432 unreachable: {exc}"
    return _postgres_state["reason"]


def require_postgres() -> None:
    """Skip (or under CI=true, fail) when PostgreSQL is unreachable."""
    reason = postgres_unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A SQLAlchemy URL whose search_path is a fresh, empty schema."""
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLAlchemy URL of a new SQLite file."""
    return f"sqlite:///{tmp_path / 'phased.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_schema_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    """The clock of the ``store`` fixture (audit timestamps, override expiry); moves on demand."""
    return FrozenClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(database_url: str, clock: FrozenClock) -> Iterator[Store]:
    """A migrated, empty store (dev, staging, prod) on each backend."""
    opened = open_store(database_url, environments=ENVIRONMENTS, clock=clock.datetime)
    try:
        yield opened
    finally:
        opened.close()


StoreFactory = Callable[[], Store]


@pytest.fixture
def open_another(database_url: str, clock: FrozenClock) -> Iterator[StoreFactory]:
    """Open further stores on the same database (another process, as it were)."""
    opened: list[Store] = []

    def make() -> Store:
        s = open_store(database_url, environments=ENVIRONMENTS, clock=clock.datetime)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()
