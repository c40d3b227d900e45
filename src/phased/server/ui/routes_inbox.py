"""What waits for me, and the sign-off sheet: the pages that tell a person to act.

``/ui/inbox`` lists every going rollout that waits for one of the viewer's
roles (the token's role, and the roles they hold as a member; an admin sees
everything), with what it waits for and a link to act on the rollout page.
``/ui/rollouts/{flag}/signoff`` is seed 002's approval sign-off table,
printable: every stage that needs an approval with its roles, who approved,
when and with what note, and every checklist item with who ticked it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phased.core.summary import Wait
from phased.server.tracing import TracedRoute
from phased.server.ui.render import page
from phased.server.ui.session import SessionDep, state_of
from phased.service import members, plan_rollouts, rollout_summary
from phased.service.rollout_summary import Glance
from phased.service.tokens import Role
from phased.store.engine import Store

router = APIRouter(prefix="/ui", route_class=TracedRoute)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One rollout that waits for the viewer, with the waits that are theirs."""

    glance: Glance
    waits: tuple[Wait, ...]


def waiting_for(glances: list[Glance], roles: set[str], *, admin: bool) -> list[InboxItem]:
    """The going rollouts with a wait one of ``roles`` can act on (an admin: any wait)."""
    out = []
    for g in glances:
        if not g.rollout.active:
            continue
        mine = tuple(w for w in g.summary.waits if w.who and (admin or roles & set(w.who)))
        if mine:
            out.append(InboxItem(g, mine))
    return out


def _inbox(store: Store, name: str, role: Role) -> tuple[list[InboxItem], set[str]]:
    with store.read() as conn:
        member = members.load_member(conn, name)
    roles = {role.value, *(member.roles if member is not None else ())}
    items = waiting_for(rollout_summary.glance_all(store), roles, admin=role is Role.ADMIN)
    return items, roles


@router.get("/inbox", include_in_schema=False)
async def inbox(request: Request, session: SessionDep) -> Response:
    """Rollouts waiting for an approval, a checklist item or a resume from my roles."""
    store = state_of(request).store
    items, roles = await run_in_threadpool(_inbox, store, session.name, session.principal.role)
    return page(
        request,
        "inbox.html",
        session,
        title="Waiting for you",
        nav="inbox",
        items=items,
        roles=sorted(roles),
    )


@router.get("/rollouts/{flag}/signoff", include_in_schema=False)
async def signoff(request: Request, session: SessionDep, flag: str) -> Response:
    """Seed 002's approval sign-off table for the flag's latest rollout, ready to print."""
    store = state_of(request).store
    rollout = await run_in_threadpool(plan_rollouts.get_rollout, store, flag)
    return page(
        request,
        "signoff.html",
        session,
        title=f"Sign-off {flag}",
        nav="rollouts",
        r=rollout,
        now=store.clock(),
    )
