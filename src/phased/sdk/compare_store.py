"""Wiring ``client.compare`` to the embedded store (``Client.local``).

The client learns each flag's compare mode from the stage in force and sends
its mismatch samples to the store, where ``phased compare mismatches`` reads
them. Neither ever raises into the client: a store that cannot be read keeps
the modes as they were; a sample that cannot be written is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phased.sdk.client import Client
    from phased.store.engine import Store


class StoreMismatchSink:
    """Writes mismatch samples into the store."""

    def __init__(self, store: Callable[[], Store]) -> None:
        self.store = store

    def add(self, sample: dict[str, Any]) -> None:
        """Keep one sample."""
        from phased.service.compare import record_mismatch

        record_mismatch(self.store(), sample)


def follow_compare(client: Client, store: Callable[[], Store]) -> Callable[[], None]:
    """Follow the stages' compare modes and deprecation phases; samples go to the store."""
    from phased.service.compare import active_modes, deprecation_phases

    client.comparisons.sink = StoreMismatchSink(store)

    def refresh() -> None:
        try:
            modes = active_modes(store(), client.environment)
            phases = deprecation_phases(store(), client.environment)
        except Exception:
            return
        client.comparisons.deprecations.clear()
        client.comparisons.deprecations.update(phases)
        for flag in [f for f in client.compare_modes if f not in modes]:
            del client.compare_modes[flag]
        client.compare_modes.update(modes)

    refresh()
    return client.on_update(refresh)
