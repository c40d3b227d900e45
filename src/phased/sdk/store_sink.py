"""An outcome sink that writes windows straight into the embedded store.

Used by ``Client.local``. Each window is given a batch id the first time the
sink sees it and keeps that id while the tracker retries it, so a write that
did commit but whose success never came back (a connection dropped during
COMMIT) is not counted a second time when retried.

:func:`follow_stages` keeps ``client.stages`` in step with the store's
rollouts, so outcomes are labelled with the stage that was in force.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from phased.core.outcomes import Aggregate
from phased.sdk.tracker import Window

if TYPE_CHECKING:
    from phased.sdk.client import Client
    from phased.store.engine import Store


class StoreSink:
    """Writes outcome windows to a store through :func:`phased.service.outcomes.ingest`.

    Args:
        store: an open store, or None to open ``database_url`` on first use.
        database_url: the store to open (without migrating: that is the control plane's job).
        new_id: makes batch ids (tests pass a deterministic one).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        database_url: str | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        if store is None and database_url is None:
            raise ValueError("give a store or a database_url")
        self._store = store
        self._url = database_url
        self._owns_store = store is None
        self._new_id = new_id
        # id(aggregate) -> (batch id, aggregate): the aggregate is kept alive so
        # its id cannot be reused while the tracker may still retry it.
        self._assigned: dict[int, tuple[str, Aggregate]] = {}

    @property
    def store(self) -> Store:
        """The store written to (opened on first use)."""
        if self._store is None:
            from phased.store.engine import open_store

            assert self._url is not None
            self._store = open_store(self._url, migrate=False)
        return self._store

    def write(self, windows: list[Window]) -> None:
        """Store a batch; raises (so the tracker keeps and retries it) when the store fails."""
        from phased.service.outcomes import ingest

        groups: dict[str, list[Window]] = {}
        fresh = self._new_id()
        seen: set[int] = set()
        for key, agg in windows:
            ref = id(agg)
            seen.add(ref)
            batch = self._assigned.setdefault(ref, (fresh, agg))[0]
            groups.setdefault(batch, []).append((key, agg))
        # Windows the tracker no longer offers were dropped by it: forget them.
        for ref in [r for r in self._assigned if r not in seen]:
            del self._assigned[ref]
        # A group stored before a later one failed is offered again with the
        # rest; its remembered id makes the store ignore it the second time.
        for batch, group in groups.items():
            ingest(self.store, batch, group)

    def close(self) -> None:
        """Release the store if this sink opened it."""
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None


def follow_stages(client: Client, store: Store | Callable[[], Store]) -> Callable[[], None]:
    """Label ``client``'s outcomes with each flag's current stage, now and on every update.

    Args:
        store: the store, or a function returning it (called on each refresh).

    Returns the function that unsubscribes. Never raises into the client: if
    the store cannot be read the labels stay as they were.
    """
    from phased.service.plan_rollouts import active_stages

    def refresh() -> None:
        try:
            target = store() if callable(store) else store
            stages = active_stages(target, client.environment)
        except Exception:
            return
        for flag in [f for f in client.stages if f not in stages]:
            del client.stages[flag]
        client.stages.update(stages)

    refresh()
    return client.on_update(refresh)
