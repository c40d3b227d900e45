"""Remote twin of :mod:`phased.service.flags` (see the package docs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.server.remote_services import RemoteStore, check_environment, result_of
from phased.service.flags import StoredFlag, parse_value, parse_variants

if TYPE_CHECKING:
    from phased.core.flags import FlagSet
    from phased.service.base import Result
    from phased.store.archive import ArchivedFlag

__all__ = [
    "StoredFlag",
    "create_flag",
    "delete_flag",
    "get_flag",
    "list_flags",
    "load_flagset",
    "parse_value",
    "parse_variants",
    "set_default",
    "set_enabled",
]


def stored_of(data: dict[str, Any]) -> StoredFlag:
    """A ``FlagPublic`` document as a :class:`StoredFlag`."""
    from phased.core.flags import Flag

    body = {k: v for k, v in data.items() if k not in ("version", "state_versions")}
    return StoredFlag(Flag.model_validate(body), int(data["version"]), dict(data["state_versions"]))


def load_flagset(store: RemoteStore, environment: str | None = None) -> FlagSet:
    """The server's flag set (every environment's state, or only ``environment``'s)."""
    from phased.core.flags import FlagSet

    if environment is not None:
        check_environment(store, environment)
        data = store.request("GET", "/sdk/flags", params={"environment": environment})
        return FlagSet.model_validate(data["flagset"])
    flags = {f.flag.key: f.flag for f in list_flags(store)}
    segments = store.request("GET", "/segments")
    return FlagSet.model_validate(
        {
            "environments": store.environments,
            "segments": {
                s["key"]: {k: v for k, v in s.items() if k != "used_by"} for s in segments
            },
            "flags": flags,
        }
    )


def get_flag(store: RemoteStore, key: str) -> StoredFlag:
    """One flag with its versions."""
    return stored_of(store.request("GET", f"/flags/{key}"))


def list_flags(store: RemoteStore) -> list[StoredFlag]:
    """Every flag, by key."""
    return [stored_of(f) for f in store.request("GET", "/flags")]


def create_flag(
    store: RemoteStore,
    *,
    actor: str | None,
    key: str,
    description: str = "",
    owner: str | None = None,
    tags: tuple[str, ...] = (),
    variants: dict[str, int] | None = None,
    env_var: str | None = None,
    stickiness: str = "user",
) -> Result:
    """Create a flag, off everywhere."""
    del actor
    body = {
        "key": key,
        "description": description,
        "owner": owner,
        "tags": list(tags),
        "variants": variants,
        "env_var": env_var,
        "stickiness": stickiness,
    }
    return result_of(store.request("POST", "/flags", json=body))


def set_enabled(
    store: RemoteStore,
    *,
    actor: str | None,
    key: str,
    environment: str,
    enabled: bool,
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """Release or engage the kill switch in one environment."""
    del actor
    body = {"enabled": enabled, "version": expected_version, "force": force}
    path = f"/flags/{key}/environments/{environment}/enabled"
    return result_of(store.request("PUT", path, json=body))


def set_default(
    store: RemoteStore,
    *,
    actor: str | None,
    key: str,
    environment: str,
    value: str,
    expected_version: int | None = None,
    force: bool = False,
) -> Result:
    """What contexts nothing else reached get in one environment."""
    del actor
    body = {"value": value, "version": expected_version, "force": force}
    path = f"/flags/{key}/environments/{environment}/default"
    return result_of(store.request("PUT", path, json=body))


def delete_flag(
    store: RemoteStore, *, actor: str | None, key: str, expected_version: int | None = None
) -> Result:
    """Delete (archive) a flag in every environment."""
    del actor
    return result_of(store.request("DELETE", f"/flags/{key}", params={"version": expected_version}))


def list_archived(store: RemoteStore) -> list[ArchivedFlag]:
    """Deleted (archived) flags, by key."""
    from datetime import datetime

    from phased.core.flags import Flag
    from phased.store.archive import ArchivedFlag

    out = []
    for i, row in enumerate(store.request("GET", "/flags/archived")):
        body = {k: v for k, v in row.items() if k not in ("archived_by", "archived_at")}
        out.append(
            ArchivedFlag(
                id=i,
                flag=Flag.model_validate(body),
                archived_by=row["archived_by"],
                archived_at=datetime.fromisoformat(row["archived_at"]),
            )
        )
    return out


def restore_flag(store: RemoteStore, *, actor: str | None, key: str) -> Result:
    """Bring an archived flag back."""
    del actor
    return result_of(store.request("POST", f"/flags/{key}/restore"))
