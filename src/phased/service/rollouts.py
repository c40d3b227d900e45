"""Percentage rollouts: set the share of a flag's audience that gets it in one environment."""

from __future__ import annotations

import math

from phased.core.flags import check_percent
from phased.errors import ValidationError
from phased.service.base import (
    Result,
    check_environment,
    check_version,
    mutation,
    replace_flag,
    require_flag,
    result_of,
    validated,
)
from phased.store.engine import Store


def check_rollout_percent(percent: float) -> float:
    """0..100 with at most two decimals, as a ValidationError naming ``percent``."""
    if isinstance(percent, bool) or not isinstance(percent, int | float) or math.isnan(percent):
        raise ValidationError(f"must be a number 0..100 (got {percent!r})", field="percent")
    try:
        return check_percent(float(percent))
    except ValueError as exc:
        raise ValidationError(f"{exc}; e.g. --percent 25 or 12.5", field="percent") from None


def set_rollout(
    store: Store,
    *,
    actor: str | None,
    key: str,
    environment: str,
    percent: float,
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """Set the rollout percentage of ``key`` in ``environment``.

    Raising it never removes anyone who had the flag; lowering it removes the
    most recently added first (see :mod:`phased.core.bucketing`).

    Raises:
        ValidationError: percent outside 0..100 or with more than two decimals, unknown env.
        NotFoundError: no such flag.
        ConflictError: ``expected_version`` is stale.
    """
    env = check_environment(store, environment)
    value = check_rollout_percent(percent)
    with mutation(store, actor, force=force) as m:
        flag = require_flag(m.snapshot.flagset, key)
        check_version(
            m.snapshot.state_version(key, env), expected_version, f"flag {key!r} in {env}"
        )
        state = validated(lambda: flag.state(env).with_changes(rollout=value))
        m.commit(replace_flag(m.snapshot.flagset, flag.with_state(env, state)), "rollout.set")
    return result_of(m)
