"""The database's own failures, as the store lets them through.

Refusals phased understands are :class:`phased.errors.PhasedError`; anything
else from the database (a lost connection, a locked file, a full disk) is a
:data:`DatabaseError`, which the CLI turns into one line.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

DatabaseError = SQLAlchemyError
"""Every error the database driver raises through SQLAlchemy."""


def describe(exc: BaseException) -> str:
    """``database: OperationalError: <the driver's first line>``."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"database: {type(exc).__name__}: {first}"
