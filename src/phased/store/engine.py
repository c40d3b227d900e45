"""Opening the store: engines, transactions, migrations.

SQLite (the default, ``sqlite:///./phased.db``) runs in WAL mode with a busy
timeout; its write transactions begin ``IMMEDIATE`` so writers queue instead
of failing half-way. PostgreSQL (``postgresql+psycopg://...``) serialises
writers by locking the single ``store_head`` row. Either way, at most one
mutation runs at a time, and every one of them sees the state it changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from phased.core.clock import Clock, utc_now
from phased.errors import ConfigurationError
from phased.settings import DEFAULT_ENVIRONMENTS
from phased.store.tables import metadata, store_head

SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: the key of the PostgreSQL advisory lock held while migrating.
_MIGRATION_LOCK = 7_305_146_501


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def create_store_engine(url: str) -> Engine:
    """An engine configured for the store (pragmas, transaction modes)."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigurationError(
            f"cannot read the database URL {url!r}; use sqlite:///./phased.db "
            "or postgresql+psycopg://user@host:5432/db",
            field="database_url",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise ConfigurationError(
                "an in-memory SQLite store would vanish with the process; "
                "give a file, e.g. sqlite:///./phased.db",
                field="database_url",
            )
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigurationError(
                f"the directory {parent} of the SQLite file does not exist; create it first",
                field="database_url",
            )
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database {parsed.get_backend_name()!r}; use sqlite:/// or "
        "postgresql+psycopg://",
        field="database_url",
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so that BEGIN is
    # ours to issue (and IMMEDIATE for writers).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a write that returned success survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("phased_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Store:
    """An open store: an engine, the environments every flag has, and a clock."""

    def __init__(
        self,
        engine: Engine,
        *,
        environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.environments = tuple(environments)
        self.clock = clock

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent snapshot."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The one kind of transaction that changes the store.

        Holds the store's write lock from the first statement, so the caller
        reads exactly the state it is about to change. Commits on success,
        rolls back on any exception (leaving the store as it was).
        """
        with self.engine.connect() as conn:
            conn.execution_options(phased_write=True)
            with conn.begin():
                conn.execute(select(store_head.c.id).where(store_head.c.id == 1).with_for_update())
                yield conn

    def revision(self) -> int:
        """The store revision: bumped by every mutation; cheap to poll."""
        with self.engine.connect() as conn:
            value = conn.execute(select(store_head.c.revision)).scalar_one()
            conn.rollback()
        return int(value)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in key order: two equal dumps mean an unchanged store."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self.read() as conn:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows = conn.execute(select(table).order_by(*order)).mappings()
                out[table.name] = [dict(row) for row in rows]
            out["alembic_version"] = [
                dict(row) for row in conn.execute(text("SELECT * FROM alembic_version")).mappings()
            ]
        return out

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    """The migration the database is at (None before the first)."""
    with store.engine.connect() as conn:
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        conn.rollback()
    return None if value is None else str(value)


def _newest_file_revision() -> str | None:
    # Revision ids are the zero-padded prefixes of the file names (0001_core.py),
    # so the newest file names the head without importing Alembic (~0.3 s a
    # CLI call). A mismatch of any kind falls back to a real upgrade.
    names = [p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py")]
    return max(names) if names else None


def _database_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            conn.rollback()
    except SQLAlchemyError:
        return None  # no alembic_version table yet (or unreachable: upgrade() will say so)
    return None if value is None else str(value)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (idempotent; safe to race)."""
    import logging

    # Alembic narrates every plugin and step at INFO (some while importing);
    # a server's log should show that the store migrated, not how.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    config = _alembic_config()
    with engine.connect() as conn:
        # On SQLite the IMMEDIATE begin makes concurrent first starts queue;
        # on PostgreSQL env.py takes an advisory lock for the same reason.
        conn.execution_options(phased_write=True)
        config.attributes["connection"] = conn
        config.attributes["lock_key"] = _MIGRATION_LOCK
        command.upgrade(config, revision)


def open_store(
    url: str | None = None,
    *,
    environments: tuple[str, ...] | None = None,
    migrate: bool = True,
    clock: Clock = utc_now,
) -> Store:
    """Open (and by default migrate) the store at ``url``.

    Args:
        url: a SQLAlchemy URL; ``PHASED_DATABASE_URL`` or ``sqlite:///./phased.db`` if None.
        environments: the environments every flag has; from settings if None.
        migrate: run pending migrations first (off for read-only clients).
        clock: the time source of audit entries and override expiry checks.

    Raises:
        ConfigurationError: the URL is unusable or the database cannot be reached.
    """
    if url is None or environments is None:
        from phased.settings import get_settings

        settings = get_settings()
        url = url or settings.database_url
        environments = environments or settings.environments
    engine = create_store_engine(url)
    try:
        if migrate:
            if _database_revision(engine) != _newest_file_revision():
                upgrade(engine)
        else:
            with engine.connect() as conn:
                conn.execute(select(store_head.c.revision)).scalar_one()
                conn.rollback()
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigurationError(
            f"cannot open the store at {safe_url(url)}: {reason}; "
            "check --db / PHASED_DATABASE_URL and that the database is running",
            field="database_url",
        ) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ConfigurationError(
            f"cannot open the store at {safe_url(url)}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}; run `phased` once with migrations enabled",
            field="database_url",
        ) from None
    return Store(engine, environments=tuple(environments), clock=clock)
