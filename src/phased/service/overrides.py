"""Overrides: pin a value for one user, session or attribute value, optionally until a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from phased.core.flags import FlagState, Override, Value
from phased.errors import NotFoundError, ValidationError
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
from phased.service.flags import load_flagset, parse_value
from phased.service.times import parse_duration, parse_instant
from phased.store.engine import Store


def parse_expiry(text: str, now: datetime) -> datetime:
    """A duration (``7d``, ``1h30m``, ``90s``) from ``now``, or an ISO 8601 time (UTC if no zone).

    Raises:
        ValidationError: unreadable, or not in the future.
    """
    delta = parse_duration(text)
    if delta is not None and not delta:
        raise ValidationError(
            f"{text!r} expires at once; give e.g. 7d, 12h or 30m", field="expires"
        )
    when = now + delta if delta is not None else parse_instant(text, "expires")
    return check_future(when, now)


def check_future(when: datetime, now: datetime) -> datetime:
    """Refuse an expiry that is not after ``now``."""
    if when <= now:
        raise ValidationError(
            f"{when.astimezone(UTC).isoformat()} is in the past (now "
            f"{now.astimezone(UTC).isoformat(timespec='seconds')}); give a future time or a "
            "duration like 7d",
            field="expires",
        )
    return when


def target(
    user: str | None = None, session: str | None = None, attr: str | None = None
) -> tuple[str, str]:
    """Exactly one of ``user``, ``session`` or ``attr`` (``key=value``) as (attribute, value)."""
    given = [(n, v) for n, v in (("user", user), ("session", session), ("attr", attr)) if v]
    if len(given) != 1:
        names = " and ".join(f"--{n}" for n, _ in given) if given else "none of them"
        raise ValidationError(
            f"give exactly one of --user, --session or --attr (got {names})", field="target"
        )
    name, value = given[0]
    assert value is not None
    if name != "attr":
        return name, value
    attribute, sep, attr_value = value.partition("=")
    if not sep or not attribute.strip() or not attr_value.strip():
        raise ValidationError(
            f"cannot read {value!r}; write KEY=VALUE, e.g. org=acme", field="attr"
        )
    return attribute.strip(), attr_value.strip()


@dataclass(frozen=True, slots=True)
class OverrideView:
    """An override as listed: where it is and whether it still matches."""

    flag: str
    environment: str
    override: Override
    expired: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``--json`` output."""
        return {
            "flag": self.flag,
            "environment": self.environment,
            **self.override.model_dump(mode="json"),
            "expired": self.expired,
        }


def list_overrides(
    store: Store, *, key: str | None = None, environment: str | None = None
) -> list[OverrideView]:
    """Overrides by flag and environment; expired ones are listed and marked."""
    flagset = load_flagset(store, environment)
    if key is not None:
        require_flag(flagset, key)
    now = store.clock()
    out = []
    for flag_key, flag in sorted(flagset.flags.items()):
        if key is not None and flag_key != key:
            continue
        for env in store.environments:
            if environment is not None and env != environment:
                continue
            for o in flag.state(env).overrides:
                out.append(OverrideView(flag_key, env, o, o.is_expired(now)))
    return out


def set_override(
    store: Store,
    *,
    actor: str | None,
    key: str,
    environment: str,
    serve: Value | str,
    user: str | None = None,
    session: str | None = None,
    attr: str | None = None,
    expires: str | datetime | None = None,
    note: str = "",
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """Pin ``serve`` for one user, session or ``attr=value`` (replacing an existing pin).

    Args:
        serve: ``True``/``False``, a variant name, or text such as ``on``/``off``.
        expires: ``7d``/``12h``/``30m``, ISO 8601 text, or a datetime; must be in the future.
    """
    env = check_environment(store, environment)
    attribute, value = target(user, session, attr)
    now = store.clock()
    when: datetime | None
    if isinstance(expires, str):
        when = parse_expiry(expires, now)
    elif isinstance(expires, datetime):
        when = check_future(expires if expires.tzinfo else expires.replace(tzinfo=UTC), now)
    else:
        when = None
    with mutation(store, actor, force=force) as m:
        flag = require_flag(m.snapshot.flagset, key)
        check_version(
            m.snapshot.state_version(key, env), expected_version, f"flag {key!r} in {env}"
        )
        served = parse_value(flag, serve) if isinstance(serve, str) else serve
        pin = validated(
            lambda: Override(
                attribute=attribute, value=value, serve=served, expires=when, note=note
            )
        )
        state = flag.state(env)
        kept = tuple(o for o in state.overrides if (o.attribute, o.value) != (attribute, value))
        new_state = validated(lambda: state.with_changes(overrides=(*kept, pin)))
        m.commit(replace_flag(m.snapshot.flagset, flag.with_state(env, new_state)), "override.set")
    return result_of(m)


def clear_override(
    store: Store,
    *,
    actor: str | None,
    key: str,
    environment: str,
    user: str | None = None,
    session: str | None = None,
    attr: str | None = None,
    force: bool = False,
) -> Result:
    """Remove the override for one user, session or ``attr=value``.

    Raises:
        NotFoundError: there is no such override.
    """
    env = check_environment(store, environment)
    attribute, value = target(user, session, attr)
    with mutation(store, actor, force=force) as m:
        flag = require_flag(m.snapshot.flagset, key)
        state = flag.state(env)
        kept = tuple(o for o in state.overrides if (o.attribute, o.value) != (attribute, value))
        if len(kept) == len(state.overrides):
            raise NotFoundError(
                f"flag {key!r} has no override for {attribute}={value} in {env}; "
                f"see `phased override list {key} --env {env}`",
                field="override",
            )
        new_state = validated(lambda: state.with_changes(overrides=kept))
        after = replace_flag(m.snapshot.flagset, flag.with_state(env, new_state))
        m.commit(after, "override.clear")
    return result_of(m)


def clear_all_overrides(
    store: Store,
    *,
    actor: str | None,
    environment: str,
    key: str | None = None,
    force: bool = False,
) -> Result:
    """Remove every override of ``key`` (or of every flag) in one environment.

    The emergency path of seed 003's rollback plan; one audit entry per flag changed.
    """
    env = check_environment(store, environment)
    with mutation(store, actor, force=force) as m:
        flagset = m.snapshot.flagset
        keys = [key] if key is not None else sorted(flagset.flags)
        after = flagset
        for flag_key in keys:
            flag = require_flag(after, flag_key)
            state = flag.state(env)
            if state.overrides:
                after = replace_flag(after, flag.with_state(env, _without_overrides(state)))
        m.commit(after, "override.clear_all")
    return result_of(m)


def _without_overrides(state: FlagState) -> FlagState:
    return validated(lambda: state.with_changes(overrides=()))
