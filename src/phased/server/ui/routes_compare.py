"""The rollout page's mismatch samples: mark one "new behaviour is correct" (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from phased.server.api.routes import compare as compare_api
from phased.server.auth import Permission
from phased.server.ui.render import act, form_of
from phased.server.ui.session import SessionDep, state_of

router = APIRouter(prefix="/ui/rollouts", include_in_schema=False)


@router.post("/{flag}/mismatches/{mismatch_id}/resolve", include_in_schema=False)
async def resolve(request: Request, session: SessionDep, flag: str, mismatch_id: int) -> Response:
    """Resolve a mismatch as "new behaviour is correct"; the note says why."""
    form = await form_of(request)
    note = form.get("note", "").strip()
    store = state_of(request).store

    def run() -> str:
        body = compare_api.MismatchResolve(note=note)
        compare_api.resolve_mismatch(mismatch_id, body, store, session.principal)
        return f"Mismatch #{mismatch_id} of {flag}: new behaviour is correct. It no longer counts."

    return await act(
        request,
        session,
        form,
        permission=Permission.RUN_PLANS,
        confirm=f"Mark mismatch #{mismatch_id} of {flag} as “new behaviour is correct” ({note!r})?",
        back=f"/ui/rollouts/{flag}",
        run=run,
    )
