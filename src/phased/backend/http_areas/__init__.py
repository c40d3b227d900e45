"""The areas of :class:`~phased.backend.http.HttpBackend`: the service layer over the API.

Each module holds one area of :class:`~phased.backend.protocol.Backend`
(``flags.py``: ``HttpFlags``), with the same method names and signatures as
``phased.service.<name>`` minus the store, returning the same objects rebuilt
from the API's JSON. mypy checks each against its protocol in
:mod:`phased.backend.areas`, so a command prints the same output against a
database and against a server.

The ``actor`` argument of a mutation is not sent: over HTTP the actor is the
token's owner (the CLI checks a given ``--actor`` against it first).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from phased.core.clock import utc_now

if TYPE_CHECKING:
    from types import TracebackType

    from phased.backend.http import Remote
    from phased.core.decide import Decision
    from phased.core.rollout_state import RolloutState
    from phased.service.base import Result
    from phased.service.diff import EntityChange
    from phased.service.rollout_records import Rollout
    from phased.store.audit import AuditEntry


class RemoteStore:
    """Stands where a local ``Store`` would: the server's environments, clock and revision."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self._environments: tuple[str, ...] | None = None
        self.seen_revision: int | None = None
        """The revision a change of this command reported (the health check may lag it)."""

    @property
    def environments(self) -> tuple[str, ...]:
        """The server's environments (asked once)."""
        if self._environments is None:
            self._environments = tuple(self.remote.health()["environments"])
        return self._environments

    def revision(self) -> int:
        """The revision after this command's change, else the one the server has loaded."""
        if self.seen_revision is not None:
            return self.seen_revision
        return int(self.remote.health()["revision"])

    def clock(self) -> datetime:
        """Now, in UTC (relative times like ``--since 7d`` are read against it)."""
        return utc_now()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``Remote.request``: one API call, refusals raised as the local error class."""
        return self.remote.request(method, path, **kwargs)

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        del exc_type, exc, tb  # the connection stays open for the rest of the command


def check_environment(store: RemoteStore, environment: str | None) -> str:
    """One of the server's environments (the same refusal as locally)."""
    from phased.service import base

    return base.check_environment(store, environment)


def when(value: str | None) -> datetime | None:
    """An API timestamp as an aware datetime."""
    return None if value is None else datetime.fromisoformat(value)


def entry_of(data: dict[str, Any]) -> AuditEntry:
    """An ``AuditEntryPublic`` document as the store's entry."""
    from phased.store.audit import AuditEntry

    return AuditEntry(
        id=int(data["id"]),
        ts=datetime.fromisoformat(data["ts"]),
        actor=data["actor"],
        action=data["action"],
        entity=data["entity"],
        details=dict(data["details"]),
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def change_of(data: dict[str, Any]) -> EntityChange:
    """A ``ChangePublic`` document as the service layer's change."""
    from phased.service.diff import EntityChange

    return EntityChange(
        kind=data["kind"],
        key=data["key"],
        op=data["op"],
        before=data["before"],
        after=data["after"],
    )


def result_of(data: dict[str, Any]) -> Result:
    """A ``MutationPublic`` document as the service layer's result."""
    from phased.service.base import Result

    return Result(
        changes=tuple(change_of(c) for c in data["changes"]),
        entries=tuple(entry_of(e) for e in data["audit"]),
        revision=int(data["revision"]),
    )


def rollout_of(data: dict[str, Any]) -> Rollout:
    """A ``RolloutPublic`` document as the service layer's rollout."""
    from phased.core.plans.model import DEFAULT_ROLES, Plan
    from phased.core.rollout_state import RolloutState
    from phased.service.rollout_records import Rollout

    plan = Plan.model_validate(data["plan"], context={"roles": DEFAULT_ROLES})
    created = when(data["created_at"])
    return Rollout(
        id=int(data["id"]),
        flag=data["flag"],
        environment=plan.stage_environment(0),
        plan=plan,
        plan_source="",
        plan_path=data["plan_path"],
        state=RolloutState.model_validate(data["state"]),
        version=int(data["version"]),
        created_by=data.get("created_by") or data["started_by"],
        created_at=created or utc_now(),
        updated_at=when(data["updated_at"]) or created or utc_now(),
        ended_at=when(data["ended_at"]),
    )


def decision_of(data: dict[str, Any], state: RolloutState) -> Decision:
    """A ``DecisionPublic`` document as the engine's decision.

    The API leaves out the decision's next state; ``state`` (the rollout's, as
    the server returned it) stands in, which is what the decision led to.
    """
    from phased.core.decide import Decision

    return Decision.model_validate({**data, "state": state})
