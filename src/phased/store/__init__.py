"""The store: SQLAlchemy tables, Alembic migrations, repositories and the audit chain.

Only :mod:`phased.service` writes through it. See ``docs/store.md``.
"""

from __future__ import annotations

# Every module that puts tables on `metadata` is imported here, so that dumps
# and schema checks see all of them whatever the caller happened to import first.
from phased.alerts import outbox as _outbox  # noqa: F401
from phased.alerts import stored as _stored_alerts_config  # noqa: F401
from phased.store import tables_migrate, tables_rollouts, tables_rollups, tokens  # noqa: F401
from phased.store.engine import Store, open_store, upgrade
from phased.store.tables import metadata

__all__ = ["Store", "metadata", "open_store", "upgrade"]
