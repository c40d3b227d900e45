"""The ``overrides`` area over the HTTP API (:mod:`phased.service.overrides`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from phased.backend.http_areas import RemoteStore, result_of
from phased.service.overrides import OverrideView

if TYPE_CHECKING:
    from phased.core.flags import Value
    from phased.service.base import Result


class HttpOverrides:
    """The ``overrides`` use cases over the HTTP API."""

    def __init__(self, http: RemoteStore) -> None:
        self.http = http

    def list_overrides(
        self, *, key: str | None = None, environment: str | None = None
    ) -> list[OverrideView]:
        """Overrides by flag and environment (expired ones included and marked)."""
        from phased.core.flags import Override

        rows = self.http.request(
            "GET", "/overrides", params={"flag": key, "environment": environment}
        )
        return [
            OverrideView(
                flag=r["flag"],
                environment=r["environment"],
                override=Override.model_validate(
                    {k: v for k, v in r.items() if k not in ("flag", "environment", "expired")}
                ),
                expired=bool(r["expired"]),
            )
            for r in rows
        ]

    def set_override(
        self,
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
        """Pin a value for one user, session or attribute value."""
        del actor
        body = {
            "environment": environment,
            "serve": serve,
            "user": user,
            "session": session,
            "attr": attr,
            "expires": expires.isoformat() if isinstance(expires, datetime) else expires,
            "note": note,
            "version": expected_version,
            "force": force,
        }
        return result_of(self.http.request("POST", f"/flags/{key}/overrides", json=body))

    def clear_override(
        self,
        *,
        actor: str | None,
        key: str,
        environment: str,
        user: str | None = None,
        session: str | None = None,
        attr: str | None = None,
        force: bool = False,
    ) -> Result:
        """Remove the pin of one target."""
        del actor
        body = {
            "environment": environment,
            "user": user,
            "session": session,
            "attr": attr,
            "force": force,
        }
        return result_of(self.http.request("POST", f"/flags/{key}/overrides/clear", json=body))

    def clear_all_overrides(
        self,
        *,
        actor: str | None,
        environment: str,
        key: str | None = None,
        force: bool = False,
    ) -> Result:
        """Remove every pin of one flag, or of all flags, in one environment."""
        del actor
        body = {"environment": environment, "flag": key, "force": force}
        return result_of(self.http.request("POST", "/overrides/clear-all", json=body))
