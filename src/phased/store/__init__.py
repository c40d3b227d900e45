"""The store: SQLAlchemy tables, Alembic migrations, repositories and the audit chain.

Only :mod:`phased.service` writes through it. See ``docs/store.md``.
"""

from __future__ import annotations

# Every module that puts tables on `metadata` is imported here, so that dumps
# and schema checks see all of them whatever the caller happened to import first.
from phased.store import (  # noqa: F401
    archive,
    tables_alerts,
    tables_external,
    tables_migrate,
    tables_rollouts,
    tables_rollups,
    tokens,
)
from phased.store.engine import Store, open_store, upgrade
from phased.store.tables import metadata

__all__ = ["Store", "metadata", "open_store", "upgrade"]
