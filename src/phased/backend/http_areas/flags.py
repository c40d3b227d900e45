"""The ``flags`` area over the HTTP API (:mod:`phased.service.flags`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phased.backend.http_areas import RemoteStore, check_environment, result_of
from phased.service.flags import StoredFlag

if TYPE_CHECKING:
    from phased.core.flags import FlagSet
    from phased.service.base import Result
    from phased.store.archive import ArchivedFlag


def stored_of(data: dict[str, Any]) -> StoredFlag:
    """A ``FlagPublic`` document as a :class:`StoredFlag`."""
    from phased.core.flags import Flag

    body = {k: v for k, v in data.items() if k not in ("version", "state_versions")}
    return StoredFlag(Flag.model_validate(body), int(data["version"]), dict(data["state_versions"]))


class HttpFlags:
    """The ``flags`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def load_flagset(self, environment: str | None = None) -> FlagSet:
        """The server's flag set (every environment's state, or only ``environment``'s)."""
        from phased.core.flags import FlagSet

        if environment is not None:
            check_environment(self.http, environment)
            data = self.http.request("GET", "/sdk/flags", params={"environment": environment})
            return FlagSet.model_validate(data["flagset"])
        flags = {f.flag.key: f.flag for f in self.list_flags()}
        segments = self.http.request("GET", "/segments")
        return FlagSet.model_validate(
            {
                "environments": self.http.environments,
                "segments": {
                    s["key"]: {k: v for k, v in s.items() if k != "used_by"} for s in segments
                },
                "flags": flags,
            }
        )

    def get_flag(self, key: str) -> StoredFlag:
        """One flag with its versions."""
        return stored_of(self.http.request("GET", f"/flags/{key}"))

    def list_flags(self) -> list[StoredFlag]:
        """Every flag, by key."""
        return [stored_of(f) for f in self.http.request("GET", "/flags")]

    def create_flag(
        self,
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
        return result_of(self.http.request("POST", "/flags", json=body))

    def set_enabled(
        self,
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
        return result_of(self.http.request("PUT", path, json=body))

    def set_default(
        self,
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
        return result_of(self.http.request("PUT", path, json=body))

    def delete_flag(
        self, *, actor: str | None, key: str, expected_version: int | None = None
    ) -> Result:
        """Delete (archive) a flag in every environment."""
        del actor
        return result_of(
            self.http.request("DELETE", f"/flags/{key}", params={"version": expected_version})
        )

    def list_archived(self) -> list[ArchivedFlag]:
        """Deleted (archived) flags, by key."""
        from datetime import datetime

        from phased.core.flags import Flag
        from phased.store.archive import ArchivedFlag

        out = []
        for i, row in enumerate(self.http.request("GET", "/flags/archived")):
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

    def restore_flag(self, *, actor: str | None, key: str) -> Result:
        """Bring an archived flag back."""
        del actor
        return result_of(self.http.request("POST", f"/flags/{key}/restore"))
