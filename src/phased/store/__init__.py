"""The store: SQLAlchemy tables, Alembic migrations, repositories and the audit chain.

Only :mod:`phased.service` writes through it. See ``docs/store.md``.
"""

from __future__ import annotations

from phased.store.engine import Store, open_store, upgrade
from phased.store.tables import metadata

__all__ = ["Store", "metadata", "open_store", "upgrade"]
