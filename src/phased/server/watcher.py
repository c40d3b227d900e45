"""Follow the store revision: reload tokens and SDK payloads, wake the streams.

One task on the server's event loop polls the revision (one indexed read of
one row) every ``revision_poll_seconds``. Polling rather than listening to
in-process events means a change made by another replica, the CLI against
the database or the engine in another process is seen the same way.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.concurrency import run_in_threadpool

from phased.obs.log import get_logger
from phased.server.state import ServerState

log = get_logger("phased.server.watcher")


def refresh(state: ServerState) -> list[str]:
    """Reload everything derived from the store if the revision moved (blocking)."""
    revision = state.store.revision()
    if revision == state.revision:
        return []
    state.tokens.reload(state.store)
    changed = state.sdk.rebuild(state.store, revision)
    state.revision = revision
    state.metrics.observe_store(state)
    return changed


async def watch(state: ServerState, interval: float) -> None:
    """Run until cancelled; a failing read is logged and retried, never fatal."""
    failures = 0
    while True:
        try:
            changed = await run_in_threadpool(refresh, state)
            if changed:
                state.sdk.notify(changed)
            if failures:
                log.info("store_reachable_again", revision=state.revision)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            if failures in (1, 10) or failures % 100 == 0:
                log.warning("revision_poll_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the watcher and wait for it."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
