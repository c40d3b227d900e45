"""A store holding seed 003's flag, ready for service tests."""

from __future__ import annotations

import pytest

from phased.service import flags, rollouts, segments
from phased.store.engine import Store


@pytest.fixture
def seeded(store: Store) -> Store:
    """``awf_bundle`` (env var AWF_BUNDLE_ON) enabled in prod at 5 %; segment ``staff``."""
    flags.create_flag(store, actor="seed", key="awf_bundle", env_var="AWF_BUNDLE_ON")
    flags.set_enabled(store, actor="seed", key="awf_bundle", environment="prod", enabled=True)
    rollouts.set_rollout(store, actor="seed", key="awf_bundle", environment="prod", percent=5)
    segments.create_segment(store, actor="seed", key="staff", where=["role in [admin, pm]"])
    return store
