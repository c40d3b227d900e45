"""Dependencies of the routes, as ``Annotated`` aliases.

A route states what it needs in its signature: ``store: StoreDep`` for the
store, ``who: FlagWriter`` for a token allowed to change flags (which also
takes one mutation from that token's rate limit). The principal's name is
the audit actor of whatever the route changes: there is no free-form actor
over HTTP.

The dependencies are ``async`` on purpose: they are a dict lookup each, so a
worker thread would cost more than the work, and running in the request's own
task lets them bind ``user_id`` and ``cmd`` to its log context
(:mod:`phased.server.tracing`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer

from phased.server import tracing
from phased.server.auth import Permission, Principal
from phased.server.state import ServerState
from phased.store.engine import Store

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token: `Authorization: Bearer phd_...` "
    "(`phased token create --role ROLE --name NAME`).",
)


async def get_state(request: Request) -> ServerState:
    """The running server's state."""
    state: ServerState = request.app.state.phased
    return state


StateDep = Annotated[ServerState, Depends(get_state)]


async def get_store(state: StateDep) -> Store:
    """The store the server runs on."""
    return state.store


StoreDep = Annotated[Store, Depends(get_store)]


async def current_token(
    request: Request,
    state: StateDep,
    _scheme: Annotated[Any, Security(bearer)] = None,
) -> Principal:
    """The owner of the request's bearer token (401 without a valid one)."""
    with tracing.authenticate(request.scope, mutation=False) as auth:
        principal = state.tokens.authenticate(request.headers.get("authorization"))
        auth.identify(principal)
    return principal


CurrentToken = Annotated[Principal, Depends(current_token)]


def requires(permission: Permission) -> Any:
    """A dependency: a token whose role grants ``permission`` (403 otherwise).

    Mutations also take one unit from the token's rate limit (429 when empty)
    and record an execution trace (outcome batches excepted: they are SDK
    traffic, and would push people's changes out of the trace store).
    """
    traced = permission.is_mutation and permission is not Permission.SDK_WRITE

    async def check(
        request: Request,
        state: StateDep,
        _scheme: Annotated[Any, Security(bearer)] = None,
    ) -> Principal:
        with tracing.authenticate(request.scope, mutation=traced) as auth:
            principal = state.tokens.authenticate(request.headers.get("authorization"))
            auth.identify(principal)
            principal.require(permission)
            if permission.is_mutation:
                state.limiter.check(principal)
        return principal

    check.__name__ = f"requires_{permission.value}"
    return Depends(check)


Reader = Annotated[Principal, requires(Permission.READ)]
FlagWriter = Annotated[Principal, requires(Permission.WRITE_FLAGS)]
PlanRunner = Annotated[Principal, requires(Permission.RUN_PLANS)]
Stopper = Annotated[Principal, requires(Permission.STOP)]
Approver = Annotated[Principal, requires(Permission.APPROVE)]
Admin = Annotated[Principal, requires(Permission.ADMIN)]
SdkReader = Annotated[Principal, requires(Permission.SDK_READ)]
SdkWriter = Annotated[Principal, requires(Permission.SDK_WRITE)]
