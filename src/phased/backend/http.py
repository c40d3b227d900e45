"""The backend over a phased server's API: ``PHASED_SERVER`` + ``PHASED_TOKEN``.

:class:`Remote` sends one request and turns the API's error body back into
the :class:`~phased.errors.PhasedError` subclass with the same code, so a
command prints the same one-line error and exits 1 whether it ran against
the database or against a server.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from phased import errors
from phased.errors import ConfigurationError, PhasedError

if TYPE_CHECKING:
    from phased.backend import areas
    from phased.backend.protocol import Backend

_BY_CODE: dict[str, type[PhasedError]] = {
    "invalid": errors.ValidationError,
    "invalid_file": errors.ValidationError,
    "not_found": errors.NotFoundError,
    "conflict": errors.ConflictError,
    "forbidden": errors.PermissionDeniedError,
    "unauthenticated": errors.AuthenticationError,
    "rate_limited": errors.RateLimitedError,
    "misconfigured": errors.ConfigurationError,
    "audit_chain_broken": errors.AuditChainError,
}


def error_from(response: httpx.Response) -> PhasedError:
    """The PhasedError a failed response stands for."""
    try:
        detail = response.json()["error"]
        code, message, field = str(detail["code"]), str(detail["message"]), detail.get("field")
    except (ValueError, KeyError, TypeError):
        code, field = "error", None
        message = f"the server answered {response.status_code}: {response.text[:200]}"
    cls = _BY_CODE.get(code, PhasedError)
    # The server's message already starts with the field; keep it as sent.
    error = cls(message)
    if isinstance(field, str) and message.startswith(field):
        error.field = field
    return error


class Remote:
    """A phased server, as the CLI sees it."""

    def __init__(
        self, server: str, token: str, *, timeout: float = 30.0, client: httpx.Client | None = None
    ) -> None:
        if not server.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"PHASED_SERVER must be an http(s) URL (got {server!r}), "
                "e.g. http://127.0.0.1:8700",
                field="server",
            )
        self.server = server.rstrip("/")
        self._client = client or httpx.Client(
            base_url=self.server,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "phased-cli"},
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        """Call ``/api/v1{path}``; the decoded JSON (or text with ``raw``).

        Raises:
            PhasedError: the server refused (same class as locally), or cannot be reached.
        """
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._send(method, f"/api/v1{path}", json=json, params=clean)
        if raw:
            return response.text
        return response.json() if response.content else None

    def health(self) -> dict[str, Any]:
        """``GET /healthz``: status, revision, leader, database, environments."""
        data: dict[str, Any] = self._send("GET", "/healthz").json()
        return data

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ConfigurationError(
                f"cannot reach the phased server at {self.server} ({type(exc).__name__}: {exc}); "
                "check PHASED_SERVER and that `phased serve` runs",
                field="server",
            ) from None
        if response.status_code >= 400:
            raise error_from(response)
        return response

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def from_settings() -> Remote | None:
    """A :class:`Remote` when ``PHASED_SERVER`` and ``PHASED_TOKEN`` are both set."""
    from phased.settings import load_settings

    settings = load_settings()
    if not settings.server:
        return None
    if not settings.token:
        raise ConfigurationError(
            "PHASED_SERVER is set but PHASED_TOKEN is not; set both to use a server, "
            "or neither to use the database",
            field="token",
        )
    return Remote(settings.server, settings.token)


class HttpBackend:
    """The :class:`~phased.backend.protocol.Backend` over a server's HTTP API.

    Each area lives in :mod:`phased.backend.http_areas`: the same method
    names and signatures as the local backend, the same objects rebuilt from
    the API's JSON, refusals raised as the same error classes.
    """

    def __init__(self, remote: Remote) -> None:
        from phased.backend.http_areas import RemoteStore
        from phased.backend.http_areas.alert_triggers import HttpAlertTriggers
        from phased.backend.http_areas.alerts import HttpAlerts
        from phased.backend.http_areas.apply import HttpApply
        from phased.backend.http_areas.approvals import HttpApprovals
        from phased.backend.http_areas.audit import HttpAudit
        from phased.backend.http_areas.compare import HttpCompare
        from phased.backend.http_areas.flags import HttpFlags
        from phased.backend.http_areas.golden_runs import HttpGoldenRuns
        from phased.backend.http_areas.hook_runs import HttpHookRuns
        from phased.backend.http_areas.incidents import HttpIncidents
        from phased.backend.http_areas.members import HttpMembers
        from phased.backend.http_areas.overrides import HttpOverrides
        from phased.backend.http_areas.plan_rollouts import HttpPlanRollouts
        from phased.backend.http_areas.retire import HttpRetire
        from phased.backend.http_areas.rollout_controls import HttpRolloutControls
        from phased.backend.http_areas.rollout_report import HttpRolloutReport
        from phased.backend.http_areas.rollouts import HttpRollouts
        from phased.backend.http_areas.segments import HttpSegments
        from phased.backend.http_areas.source_queries import HttpSourceQueries
        from phased.backend.http_areas.tokens import HttpTokens

        self.remote = remote
        self.connection = http = RemoteStore(remote)
        self.alerts: areas.Alerts = HttpAlerts(http)
        self.apply: areas.Apply = HttpApply(http)
        self.approvals: areas.Approvals = HttpApprovals(http)
        self.audit: areas.Audit = HttpAudit(http)
        self.compare: areas.Compare = HttpCompare(http)
        self.flags: areas.Flags = HttpFlags(http)
        self.golden_runs: areas.GoldenRuns = HttpGoldenRuns(http)
        self.hook_runs: areas.HookRuns = HttpHookRuns(http)
        self.incidents: areas.Incidents = HttpIncidents(http)
        self.members: areas.Members = HttpMembers(http)
        self.overrides: areas.Overrides = HttpOverrides(http)
        self.plan_rollouts: areas.PlanRollouts = HttpPlanRollouts(http)
        self.rollout_controls: areas.RolloutControls = HttpRolloutControls(http)
        self.rollout_report: areas.RolloutReport = HttpRolloutReport(http)
        self.rollouts: areas.Rollouts = HttpRollouts(http)
        self.segments: areas.Segments = HttpSegments(http)
        self.source_queries: areas.SourceQueries = HttpSourceQueries(http)
        self.tokens: areas.Tokens = HttpTokens(http)
        self.alert_triggers: areas.AlertTriggers = HttpAlertTriggers(http)
        self.retire: areas.Retire = HttpRetire(http)

    @property
    def environments(self) -> tuple[str, ...]:
        """The server's environments (asked once)."""
        return self.connection.environments

    def revision(self) -> int:
        """The revision after this command's change, else the one the server has loaded."""
        return self.connection.revision()

    def clock(self) -> datetime:
        """Now, in UTC."""
        return self.connection.clock()

    def close(self) -> None:
        """Nothing: the connection stays open for the rest of the command."""

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check(remote: Remote) -> Backend:
    return HttpBackend(remote)  # mypy: HttpBackend implements the protocol
