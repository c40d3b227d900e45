"""Flags: create, read, switch on and off per environment, set defaults, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phased.core.flags import Flag, FlagSet, FlagState, Value
from phased.errors import ConflictError, NotFoundError, ValidationError
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
from phased.store import archive, repository
from phased.store.archive import ArchivedFlag
from phased.store.engine import Store


@dataclass(frozen=True, slots=True)
class StoredFlag:
    """A flag with the versions a writer must name to change it."""

    flag: Flag
    version: int
    state_versions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``--json`` output and the API."""
        data = self.flag.model_dump(mode="json", by_alias=True)
        data["version"] = self.version
        data["state_versions"] = dict(self.state_versions)
        return data


def load_flagset(store: Store, environment: str | None = None) -> FlagSet:
    """The stored flag set (every environment's state, or only ``environment``'s)."""
    if environment is not None:
        check_environment(store, environment)
    with store.read() as conn:
        return repository.load(conn, store.environments, only=environment).flagset


def load_at_revision(store: Store, environment: str | None = None) -> tuple[FlagSet, int]:
    """The flag set (as :func:`load_flagset`, unchecked) and the revision it was read at.

    One read: the two always belong together (the SDK follows the revision).
    """
    with store.read() as conn:
        snapshot = repository.load(conn, store.environments, only=environment)
    return snapshot.flagset, snapshot.revision


def get_flag(store: Store, key: str) -> StoredFlag:
    """One flag with its versions.

    Raises:
        NotFoundError: there is no such flag.
    """
    with store.read() as conn:
        snap = repository.load(conn, store.environments)
    flag = require_flag(snap.flagset, key)
    return StoredFlag(
        flag,
        snap.flag_versions[key],
        {env: snap.state_version(key, env) for env in store.environments},
    )


def list_flags(store: Store) -> list[StoredFlag]:
    """Every flag, by key."""
    with store.read() as conn:
        snap = repository.load(conn, store.environments)
    return [
        StoredFlag(
            flag,
            snap.flag_versions[key],
            {env: snap.state_version(key, env) for env in store.environments},
        )
        for key, flag in sorted(snap.flagset.flags.items())
    ]


def parse_variants(text: str | None) -> dict[str, int] | None:
    """``a=50,b=50`` -> ``{"a": 50, "b": 50}``."""
    if text is None or not text.strip():
        return None
    out: dict[str, int] = {}
    for part in text.split(","):
        name, sep, weight = part.strip().partition("=")
        if not sep or not weight.strip().lstrip("-").isdigit():
            raise ValidationError(
                f"cannot read {part.strip()!r}; write NAME=WEIGHT pairs like a=50,b=50",
                field="variants",
            )
        out[name.strip()] = int(weight)
    return out


def create_flag(
    store: Store,
    *,
    actor: str | None,
    key: str,
    description: str = "",
    owner: str | None = None,
    tags: tuple[str, ...] = (),
    variants: dict[str, int] | None = None,
    env_var: str | None = None,
    stickiness: str = "user",
    enabled: bool = False,
) -> Result:
    """Create a flag, off everywhere: its kill switch engaged in every environment.

    Raises:
        ValidationError: a bad key, variants or env_var name.
        ConflictError: the key exists.
    """
    states = {env: FlagState(enabled=enabled) for env in store.environments}
    flag = validated(
        lambda: Flag(
            key=key,
            description=description,
            owner=owner,
            tags=tags,
            variants=variants,
            env_var=env_var,
            stickiness=stickiness,
            environments=states,
        )
    )
    with mutation(store, actor) as m:
        if key in m.snapshot.flagset.flags:
            raise ConflictError(
                f"flag {key!r} exists already (version {m.snapshot.flag_version(key)}); "
                "pick another key or change the existing flag",
                field="key",
            )
        m.commit(replace_flag(m.snapshot.flagset, flag), "flag.create")
    return result_of(m)


def set_enabled(
    store: Store,
    *,
    actor: str | None,
    key: str,
    environment: str,
    enabled: bool,
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """Release (``enabled=True``) or engage (``False``) the kill switch in one environment."""
    env = check_environment(store, environment)
    with mutation(store, actor, force=force) as m:
        flag = require_flag(m.snapshot.flagset, key)
        check_version(
            m.snapshot.state_version(key, env), expected_version, f"flag {key!r} in {env}"
        )
        state = validated(lambda: flag.state(env).with_changes(enabled=enabled))
        after = replace_flag(m.snapshot.flagset, flag.with_state(env, state))
        m.commit(after, "flag.enable" if enabled else "flag.disable")
    return result_of(m)


def parse_value(flag: Flag, text: str) -> Value:
    """A value of ``flag`` from text: on/off (true/false) or a variant name."""
    if flag.variants is not None:
        if text not in flag.variants:
            raise ValidationError(
                f"{text!r} is not a variant of {flag.key!r}; use one of: "
                f"{', '.join(flag.variants)}",
                field="value",
            )
        return text
    lowered = text.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise ValidationError(f"{text!r} is not on/off (or true/false)", field="value")


def set_default(
    store: Store,
    *,
    actor: str | None,
    key: str,
    environment: str,
    value: str,
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """What contexts no override, rule or rollout reached get in one environment."""
    env = check_environment(store, environment)
    with mutation(store, actor, force=force) as m:
        flag = require_flag(m.snapshot.flagset, key)
        check_version(
            m.snapshot.state_version(key, env), expected_version, f"flag {key!r} in {env}"
        )
        served = parse_value(flag, value)
        state = validated(lambda: flag.state(env).with_changes(default=served))
        m.commit(replace_flag(m.snapshot.flagset, flag.with_state(env, state)), "flag.default")
    return result_of(m)


def delete_flag(
    store: Store, *, actor: str | None, key: str, expected_version: int | None = None
) -> Result:
    """Delete (archive) a flag: it leaves every environment and is no longer served.

    Its definition and states are archived (``list_archived``, ``restore_flag``);
    its rollouts' history and its audit entries stay readable. Refused while
    another flag requires it or a rollout of it is going (see
    :mod:`phased.service.guard`).
    """
    with mutation(store, actor) as m:
        flagset = m.snapshot.flagset
        require_flag(flagset, key)
        check_version(m.snapshot.flag_version(key), expected_version, f"flag {key!r}")
        users = [k for k, f in flagset.flags.items() if any(r.flag == key for r in f.requires)]
        if users:
            raise ConflictError(
                f"flag {key!r} is a prerequisite of {', '.join(sorted(users))}; "
                "remove it from their 'requires' first",
                field="flag",
            )
        remaining = {k: f for k, f in flagset.flags.items() if k != key}
        after = validated(
            lambda: FlagSet(
                environments=flagset.environments, segments=flagset.segments, flags=remaining
            )
        )
        m.commit(after, "flag.delete")
    return result_of(m)


def list_archived(store: Store) -> list[ArchivedFlag]:
    """Every archived (deleted) flag, as it was when deleted, by key."""
    with store.read() as conn:
        return archive.listed(conn)


def restore_flag(store: Store, *, actor: str | None, key: str) -> Result:
    """Bring an archived flag back, with the definition and states it had when deleted.

    Raises:
        NotFoundError: no archived flag ``key``.
        ConflictError: a live flag ``key`` exists.
        ValidationError: it needs a segment or prerequisite that is gone.
    """
    with mutation(store, actor) as m:
        found = archive.latest(m.conn, key)
        if found is None:
            names = ", ".join(a.flag.key for a in archive.listed(m.conn)[:10]) or "none"
            raise NotFoundError(
                f"no archived flag {key!r} (archived: {names}); see `phased flag list --archived`",
                field="flag",
            )
        if key in m.snapshot.flagset.flags:
            raise ConflictError(
                f"flag {key!r} exists (version {m.snapshot.flag_version(key)}); delete it or "
                "pick the live one",
                field="flag",
            )
        restored = found.flag.model_copy(
            update={
                "environments": {
                    e: s for e, s in found.flag.environments.items() if e in store.environments
                }
            }
        )
        m.commit(replace_flag(m.snapshot.flagset, restored), "flag.restore")
        archive.drop(m.conn, key)
    return result_of(m)
