"""Emergency changes to a flag with a page that lists who is affected first.

``/ui/flags/{key}/{env}/emergency/clear-overrides`` and ``.../emergency/kill``
show :func:`~phased.server.ui.emergency_view.impact` (each pinned user,
session or attribute value, each rule, the rollout share, everyone else;
what they get now and after) and a warning when a running plan controls the
flag; confirming posts to ``.../overrides/clear-all`` (here) or to the flag
page's kill switch (``.../enabled``), both through the dashboard's usual
checks (same origin, CSRF, role, rate limit) and the audit log.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.errors import NotFoundError
from phased.server.auth import Permission
from phased.server.tracing import TracedRoute
from phased.server.ui.emergency_view import Impact, impact
from phased.server.ui.render import act, form_of, page
from phased.server.ui.session import SessionDep, state_of
from phased.service import flags as flag_service
from phased.service import overrides as override_service
from phased.service import plan_rollouts
from phased.service.preview import preview_change
from phased.store.engine import Store

router = APIRouter(prefix="/ui/flags", route_class=TracedRoute)


def _load(
    store: Store, key: str, env: str, action: Literal["clear-overrides", "kill"]
) -> tuple[Impact, int, str | None]:
    if env not in store.environments:
        raise NotFoundError(
            f"no environment {env!r}; known: {', '.join(store.environments)}", field="env"
        )
    stored = flag_service.get_flag(store, key)
    found = impact(stored.flag, env, action, store.clock())
    managed = plan_rollouts.active_stages(store, env).get(key)
    return found, stored.state_versions.get(env, 0), managed


@router.get("/{key}/{env}/emergency/{action}", include_in_schema=False)
async def emergency(
    request: Request,
    session: SessionDep,
    key: str,
    env: str,
    action: Literal["clear-overrides", "kill"],
) -> Response:
    """Who the change affects, and the button that makes it."""
    store = state_of(request).store
    found, version, managed = await run_in_threadpool(_load, store, key, env, action)
    after = (
        (lambda s: s.with_changes(enabled=False))
        if action == "kill"
        else (lambda s: s.with_changes(overrides=()))
    )
    preview = await run_in_threadpool(preview_change, store, key, env, after)
    target = (
        f"/ui/flags/{key}/{env}/overrides/clear-all"
        if action == "clear-overrides"
        else f"/ui/flags/{key}/{env}/enabled"
    )
    return page(
        request,
        "emergency.html",
        session,
        title=found.title,
        nav="flags",
        key=key,
        env=env,
        impact=found,
        version=version,
        managed_by=managed,
        target=target,
        preview=preview,
        can=session.can(Permission.WRITE_FLAGS),
    )


@router.post("/{key}/{env}/overrides/clear-all", include_in_schema=False)
async def clear_all(request: Request, session: SessionDep, key: str, env: str) -> Response:
    """Remove every override of the flag in one environment (seed 003's emergency step)."""
    form = await form_of(request)
    store = state_of(request).store

    def run() -> str:
        result = override_service.clear_all_overrides(
            store, actor=session.name, environment=env, key=key, force=form.get("force") == "on"
        )
        if not result.changed:
            return f"{key} had no overrides in {env}."
        return f"Cleared every override of {key} in {env}."

    return await act(
        request,
        session,
        form,
        permission=Permission.WRITE_FLAGS,
        confirm=f"Remove every override of {key} in {env}?",
        back=f"/ui/flags/{key}#env-{env}",
        run=run,
    )
