"""``Client.local``: evaluate from the store and follow its changes."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from phased import Client
from phased.core.flagfile import parse_flagset
from phased.service import apply, rollouts
from phased.store.engine import Store

EXAMPLE = Path(__file__).parents[2] / "examples" / "flags.yaml"


def _wait_for(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


class TestClientLocal:
    """The client loads the environment's flags and reloads when the revision moves."""

    def test_follows_changes(self, store: Store, database_url: str) -> None:
        apply.apply(store, actor="t", wanted=parse_flagset(EXAMPLE.read_text()))
        client = Client.local(
            database_url=database_url, environment="prod", env={}, poll_interval=0.05
        )
        try:
            assert client.evaluate("awf_bundle", user="user-123").reason == "override:user=user-123"
            assert client.is_enabled("ux_updates", role="pm")
            rollouts.set_rollout(
                store, actor="t", key="awf_bundle", environment="prod", percent=100
            )
            assert _wait_for(lambda: client.is_enabled("awf_bundle", user="anyone"))
        finally:
            client.close()

    def test_unreachable_store_serves_safe_defaults(self) -> None:
        client = Client.local(
            database_url="postgresql+psycopg://u@127.0.0.1:1/x?connect_timeout=1",
            environment="prod",
            poll_interval=60,
        )
        try:
            assert client.is_enabled("awf_bundle", user="u1") is False
            assert client.evaluate("awf_bundle").reason == "unknown_flag"
        finally:
            client.close()

    def test_outage_keeps_the_last_flag_set(self, store: Store, database_url: str) -> None:
        apply.apply(store, actor="t", wanted=parse_flagset(EXAMPLE.read_text()))
        client = Client.local(
            database_url=database_url, environment="prod", env={}, poll_interval=0.05
        )
        try:
            assert client.is_enabled("ux_updates", role="admin")
            # The store breaks under the client: its tables are gone.
            with store.engine.begin() as conn:
                conn.execute(text("ALTER TABLE store_head RENAME TO store_head_away"))
            assert _wait_for(
                lambda: client._store_sync is not None and client._store_sync.failures > 2
            )
            assert client.is_enabled("ux_updates", role="admin")
            with store.engine.begin() as conn:
                conn.execute(text("ALTER TABLE store_head_away RENAME TO store_head"))
            rollouts.set_rollout(
                store, actor="t", key="awf_bundle", environment="prod", percent=100
            )
            assert _wait_for(lambda: client.is_enabled("awf_bundle", user="anyone"))
        finally:
            client.close()
