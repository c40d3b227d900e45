"""Lifecycle events: listeners called inside the mutation's transaction.

The server subscribes its metrics and its trace store here (``server/app.py``)
instead of being called from every service function; anything else that must
commit or roll back together with a change can do the same. (The alert outbox
is written by the use cases that decide an alert, in the same transaction.) A
listener that raises aborts the whole change.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from phased.store.audit import AuditEntry

Listener = Callable[[Connection, AuditEntry], None]

_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener(conn, entry)`` after every audit entry; returns an unsubscribe function."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


def emit(conn: Connection, entry: AuditEntry) -> None:
    """Tell every listener about ``entry`` (same transaction)."""
    for listener in tuple(_listeners):
        listener(conn, entry)
