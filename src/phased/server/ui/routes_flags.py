"""Flags: each environment's state, percentage and overrides; toggle, percentage, override.

Every change calls the ``/api/v1`` operation itself (same validation, same
role, same service call, the session's token owner as the audit actor) and
names the state version the page showed, so a change made meanwhile by
someone else is refused instead of silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.core.flags import Flag, FlagState, Override
from phased.server.api.routes import flags as flags_api
from phased.server.api.routes import overrides as overrides_api
from phased.server.api.schemas import MutationPublic
from phased.server.auth import Permission
from phased.server.tracing import TracedRoute
from phased.server.ui.render import act, form_of, page
from phased.server.ui.session import SessionDep, state_of
from phased.service import flags as flag_service
from phased.service import plan_rollouts
from phased.service.preview import preview_change
from phased.store.engine import Store

router = APIRouter(prefix="/ui/flags", route_class=TracedRoute)


@dataclass(frozen=True, slots=True)
class EnvView:
    """One flag in one environment, as the page shows it."""

    environment: str
    state: FlagState
    version: int
    managed_by: str | None
    """The stage of a running plan that sets this state, if any."""
    overrides: tuple[tuple[Override, bool], ...]
    """Each override and whether it has expired."""

    @property
    def default_text(self) -> str:
        """What contexts nothing else reached get."""
        value = self.state.default
        if value is None:
            return "off"
        if isinstance(value, bool):
            return "on" if value else "off"
        return str(value)


@dataclass(frozen=True, slots=True)
class FlagView:
    """A flag with one :class:`EnvView` per environment."""

    flag: Flag
    envs: tuple[EnvView, ...]


def _views(store: Store, key: str | None = None) -> list[FlagView]:
    now = store.clock()
    managed: dict[tuple[str, str], str] = {}
    for rollout in plan_rollouts.list_rollouts(store, active_only=True):
        managed[(rollout.flag, rollout.stage_environment)] = (
            f"{rollout.stage.name} ({rollout.phase})"
        )
    stored = (
        [flag_service.get_flag(store, key)] if key is not None else flag_service.list_flags(store)
    )
    out = []
    for item in stored:
        envs = []
        for env in store.environments:
            state = item.flag.state(env)
            envs.append(
                EnvView(
                    environment=env,
                    state=state,
                    version=item.state_versions.get(env, 0),
                    managed_by=managed.get((item.flag.key, env)),
                    overrides=tuple((o, o.is_expired(now)) for o in state.overrides),
                )
            )
        out.append(FlagView(item.flag, tuple(envs)))
    return out


def _serve_options(flag: Flag) -> list[str]:
    return list(flag.variants) if flag.variants else ["on", "off"]


@router.get("", include_in_schema=False)
async def flag_list(request: Request, session: SessionDep) -> Response:
    """Every flag, one column per environment."""
    views = await run_in_threadpool(_views, state_of(request).store)
    return page(request, "flags.html", session, title="Flags", nav="flags", flags=views)


@router.get("/{key}", include_in_schema=False)
async def flag_detail(request: Request, session: SessionDep, key: str) -> Response:
    """One flag: each environment's switch, percentage and overrides, with their forms."""
    store = state_of(request).store
    view = (await run_in_threadpool(_views, store, key))[0]
    return page(
        request,
        "flag.html",
        session,
        title=key,
        nav="flags",
        view=view,
        serve_options=_serve_options(view.flag),
        now=store.clock(),
    )


def _version(form: dict[str, str]) -> int | None:
    text = form.get("version", "").strip()
    return int(text) if text.isdigit() else None


def _force(form: dict[str, str]) -> bool:
    # The confirmation page asks for it when a running plan controls the flag.
    return form.get("force") == "on"


def _pinned(
    state: FlagState, target: dict[str, str | None], serve: str, store: Store, key: str
) -> FlagState:
    from phased.service.flags import get_flag, parse_value
    from phased.service.overrides import target as target_of

    attribute, value = target_of(target["user"], target["session"], target["attr"])
    served = parse_value(get_flag(store, key).flag, serve)
    kept = tuple(o for o in state.overrides if (o.attribute, o.value) != (attribute, value))
    pin = Override(attribute=attribute, value=value, serve=served)
    return state.with_changes(overrides=(*kept, pin))


def _unpinned(state: FlagState, target: dict[str, str | None]) -> FlagState:
    from phased.service.overrides import target as target_of

    attribute, value = target_of(target["user"], target["session"], target["attr"])
    kept = tuple(o for o in state.overrides if (o.attribute, o.value) != (attribute, value))
    return state.with_changes(overrides=kept)


def _done(result: MutationPublic, changed: str, unchanged: str) -> str:
    return changed if result.changed else unchanged


@router.post("/{key}/{env}/enabled", include_in_schema=False)
async def set_enabled(request: Request, session: SessionDep, key: str, env: str) -> Response:
    """Release or engage the kill switch."""
    form = await form_of(request)
    enabled = form.get("enabled") == "on"
    store = state_of(request).store
    verb = "Turn ON" if enabled else "Turn OFF (kill switch)"

    def run() -> str:
        body = flags_api.FlagEnabledUpdate(
            enabled=enabled, version=_version(form), force=_force(form)
        )
        result = flags_api.set_enabled(key, env, body, store, session.principal)
        word = "on" if enabled else "off (kill switch engaged)"
        return _done(result, f"{key} is now {word} in {env}.", f"{key} was already {word}.")

    return await act(
        request,
        session,
        form,
        permission=Permission.WRITE_FLAGS,
        confirm=f"{verb} {key} in {env}?",
        back=f"/ui/flags/{key}#env-{env}",
        run=run,
        preview=lambda: preview_change(store, key, env, lambda s: s.with_changes(enabled=enabled)),
    )


@router.post("/{key}/{env}/rollout", include_in_schema=False)
async def set_rollout(request: Request, session: SessionDep, key: str, env: str) -> Response:
    """Change the rollout percentage."""
    form = await form_of(request)
    store = state_of(request).store
    percent: Any = form.get("percent", "").strip()

    def run() -> str:
        body = flags_api.RolloutUpdate(percent=percent, version=_version(form), force=_force(form))
        result = flags_api.set_rollout(key, env, body, store, session.principal)
        return _done(
            result,
            f"{key} in {env} now rolls out to {body.percent:g} %.",
            f"{key} in {env} was already at {body.percent:g} %.",
        )

    return await act(
        request,
        session,
        form,
        permission=Permission.WRITE_FLAGS,
        confirm=f"Set the rollout of {key} in {env} to {percent} %?",
        back=f"/ui/flags/{key}#env-{env}",
        run=run,
        preview=lambda: preview_change(
            store, key, env, lambda s: s.with_changes(rollout=float(percent))
        ),
    )


def _target(form: dict[str, str]) -> dict[str, str | None]:
    kind = form.get("target", "user")
    value = form.get("value", "").strip()
    return {
        "user": value if kind == "user" else None,
        "session": value if kind == "session" else None,
        "attr": value if kind == "attr" else None,
    }


@router.post("/{key}/{env}/overrides", include_in_schema=False)
async def add_override(request: Request, session: SessionDep, key: str, env: str) -> Response:
    """Pin a value for one user, session or attribute value."""
    form = await form_of(request)
    store = state_of(request).store
    target = _target(form)
    serve = form.get("serve", "on")
    expires = form.get("expires", "").strip() or None
    who = form.get("value", "").strip() or "?"
    until = f" until {expires}" if expires else ""

    def run() -> str:
        body = overrides_api.OverrideCreate(
            environment=env,
            serve=serve,
            expires=expires,
            note=form.get("note", "").strip(),
            version=_version(form),
            force=_force(form),
            **target,
        )
        overrides_api.set_override(key, body, store, session.principal)
        return f"{key} in {env}: {form.get('target', 'user')} {who} now gets {serve}{until}."

    return await act(
        request,
        session,
        form,
        permission=Permission.WRITE_FLAGS,
        confirm=f"Pin {key} to {serve} for {form.get('target', 'user')} {who} in {env}{until}?",
        back=f"/ui/flags/{key}#env-{env}",
        run=run,
        preview=lambda: preview_change(
            store, key, env, lambda s: _pinned(s, target, serve, state_of(request).store, key)
        ),
    )


@router.post("/{key}/{env}/overrides/clear", include_in_schema=False)
async def clear_override(request: Request, session: SessionDep, key: str, env: str) -> Response:
    """Remove one pin."""
    form = await form_of(request)
    store = state_of(request).store
    target = _target(form)
    who = form.get("value", "").strip() or "?"

    def run() -> str:
        body = overrides_api.OverrideClear(environment=env, force=_force(form), **target)
        result = overrides_api.clear_override(key, body, store, session.principal)
        return _done(result, f"Removed the pin of {who} on {key} in {env}.", "Nothing to remove.")

    return await act(
        request,
        session,
        form,
        permission=Permission.WRITE_FLAGS,
        confirm=f"Remove the pin of {form.get('target', 'user')} {who} on {key} in {env}?",
        back=f"/ui/flags/{key}#env-{env}",
        run=run,
        preview=lambda: preview_change(store, key, env, lambda s: _unpinned(s, target)),
    )
