"""Flags: list, read, create, delete; per environment switch, default, percentage; evaluate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from phased.core.clock import epoch_of
from phased.core.evaluate import CompiledFlagSet
from phased.core.flags import Flag
from phased.server.api.deps import FlagWriter, Reader, StateDep, StoreDep
from phased.server.api.schemas import MutationPublic
from phased.server.tracing import TracedRoute
from phased.service import flags as service
from phased.service import rollouts as rollout_service

router = APIRouter(prefix="/flags", tags=["flags"], route_class=TracedRoute)


class FlagPublic(Flag):
    """A flag with its state in every environment and the versions a writer names."""

    version: int = Field(description="Version of the flag's definition.")
    state_versions: dict[str, int] = Field(
        description="Version of each environment's state (0: never written)."
    )


class ArchivedFlagPublic(Flag):
    """A deleted flag as it was, with who deleted it and when."""

    archived_by: str
    archived_at: datetime


class FlagCreate(BaseModel):
    """A new flag; it starts off (kill switch engaged) in every environment."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="[a-z0-9][a-z0-9_.-]{0,63}", examples=["new-checkout"])
    description: str = ""
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    variants: dict[str, int] | None = Field(
        default=None, description="Multivariate: variant -> weight, summing to 100."
    )
    env_var: str | None = Field(default=None, description="A process variable that wins.")
    stickiness: str = Field(default="user", description="The attribute rollouts hash on.")


class FlagEnabledUpdate(BaseModel):
    """Release or engage the kill switch in one environment."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    version: int | None = Field(default=None, description="Refuse if the state moved past it.")
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class FlagDefaultUpdate(BaseModel):
    """What contexts nothing else reached get in one environment."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(description="on/off (true/false) or a variant name.")
    version: int | None = None
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class RolloutUpdate(BaseModel):
    """The share of the flag's audience that gets it in one environment."""

    model_config = ConfigDict(extra="forbid")

    percent: float = Field(description="0..100, at most two decimals.")
    version: int | None = None
    force: bool = Field(
        default=False,
        description="Change a flag a running plan controls anyway (forced drift: audited, "
        "the rollout is held until resumed).",
    )


class EvaluationRequest(BaseModel):
    """A context to evaluate one flag for."""

    model_config = ConfigDict(extra="forbid")

    environment: str
    context: dict[str, Any] = Field(
        default_factory=dict, examples=[{"user": "u-1", "role": "admin"}]
    )


class EvaluationPublic(BaseModel):
    """The value a context gets and why."""

    flag: str
    environment: str
    value: bool | str
    variant: str
    reason: str = Field(description="e.g. segment:admins, rollout:bucket 1834/10000 < 2500")


def _public(stored: service.StoredFlag) -> FlagPublic:
    return FlagPublic.model_validate(stored.to_dict())


@router.get("", operation_id="list_flags")
def list_flags(store: StoreDep, _who: Reader) -> list[FlagPublic]:
    """Every flag with its state in each environment, by key."""
    return [_public(f) for f in service.list_flags(store)]


@router.post("", operation_id="create_flag", status_code=status.HTTP_201_CREATED)
def create_flag(body: FlagCreate, store: StoreDep, who: FlagWriter) -> MutationPublic:
    """Create a flag, off in every environment (safe by default)."""
    result = service.create_flag(
        store,
        actor=who.name,
        key=body.key,
        description=body.description,
        owner=body.owner,
        tags=tuple(body.tags),
        variants=body.variants,
        env_var=body.env_var,
        stickiness=body.stickiness,
    )
    return MutationPublic.of(result)


@router.get("/archived", operation_id="list_archived_flags")
def list_archived(store: StoreDep, _who: Reader) -> list[ArchivedFlagPublic]:
    """Deleted (archived) flags as they were when deleted, by key."""
    return [
        ArchivedFlagPublic.model_validate(
            {
                **a.flag.model_dump(mode="json", by_alias=True),
                "archived_by": a.archived_by,
                "archived_at": a.archived_at,
            }
        )
        for a in service.list_archived(store)
    ]


@router.post("/{key}/restore", operation_id="restore_flag")
def restore_flag(key: str, store: StoreDep, who: FlagWriter) -> MutationPublic:
    """Bring an archived flag back with the definition and states it had when deleted."""
    return MutationPublic.of(service.restore_flag(store, actor=who.name, key=key))


@router.get("/{key}", operation_id="get_flag")
def get_flag(key: str, store: StoreDep, _who: Reader) -> FlagPublic:
    """One flag with its versions."""
    return _public(service.get_flag(store, key))


@router.delete("/{key}", operation_id="delete_flag")
def delete_flag(
    key: str,
    store: StoreDep,
    who: FlagWriter,
    version: int | None = Query(default=None, description="Refuse if the flag moved past it."),
) -> MutationPublic:
    """Delete (archive) a flag in every environment.

    Refused while another flag requires it or a rollout of it is going (409,
    naming the rollout). The flag is archived: `GET /flags/archived` lists it,
    `POST /flags/{key}/restore` brings it back; SDKs are no longer served it.
    """
    return MutationPublic.of(
        service.delete_flag(store, actor=who.name, key=key, expected_version=version)
    )


@router.put("/{key}/environments/{environment}/enabled", operation_id="set_flag_enabled")
def set_enabled(
    key: str, environment: str, body: FlagEnabledUpdate, store: StoreDep, who: FlagWriter
) -> MutationPublic:
    """Release (`enabled: true`) or engage (`false`) the flag's kill switch."""
    result = service.set_enabled(
        store,
        actor=who.name,
        key=key,
        environment=environment,
        enabled=body.enabled,
        expected_version=body.version,
        force=body.force,
    )
    return MutationPublic.of(result)


@router.put("/{key}/environments/{environment}/default", operation_id="set_flag_default")
def set_default(
    key: str, environment: str, body: FlagDefaultUpdate, store: StoreDep, who: FlagWriter
) -> MutationPublic:
    """Set the value served when no override, rule or rollout applies."""
    result = service.set_default(
        store,
        actor=who.name,
        key=key,
        environment=environment,
        value=body.value,
        expected_version=body.version,
        force=body.force,
    )
    return MutationPublic.of(result)


@router.put("/{key}/environments/{environment}/rollout", operation_id="set_rollout")
def set_rollout(
    key: str, environment: str, body: RolloutUpdate, store: StoreDep, who: FlagWriter
) -> MutationPublic:
    """Set the rollout percentage; raising it never removes anyone who had the flag."""
    result = rollout_service.set_rollout(
        store,
        actor=who.name,
        key=key,
        environment=environment,
        percent=body.percent,
        expected_version=body.version,
        force=body.force,
    )
    return MutationPublic.of(result)


@router.post("/{key}/evaluate", operation_id="evaluate_flag")
def evaluate(
    key: str, body: EvaluationRequest, store: StoreDep, state: StateDep, _who: Reader
) -> EvaluationPublic:
    """Evaluate the flag for a context, as an SDK in that environment would."""
    flagset = service.load_flagset(store, body.environment)
    service.get_flag(store, key)
    compiled = CompiledFlagSet(flagset, body.environment, env={}, clock=epoch_of(store.clock))
    result = compiled.evaluate(key, body.context)
    state.metrics.evaluated(key, result.reason)
    return EvaluationPublic(
        flag=key,
        environment=body.environment,
        value=result.value,
        variant=result.variant,
        reason=result.reason,
    )
