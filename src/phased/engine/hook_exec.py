"""Running one hook: an HTTP call (non-2xx fails) or a command (non-zero exit fails).

Both have a per-attempt time-out and ``retries`` extra attempts. A command's
output (stdout and stderr) is kept, redacted and bounded to its last
:data:`MAX_OUTPUT_CHARS` characters. A hook never raises: every failure is a
:class:`HookResult` with ``ok=False`` and the reason.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from phased.core.plans.extensions import Hook
from phased.obs.redact import redact_text

MAX_OUTPUT_CHARS = 2000
RETRY_DELAY_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class HookResult:
    """How one hook ended."""

    ok: bool
    detail: str
    """``HTTP 200``, ``exit 0`` or why it failed, then the (redacted, bounded) output."""
    attempts: int
    seconds: float


def _bounded(text: str) -> str:
    text = redact_text(text.strip())
    return text if len(text) <= MAX_OUTPUT_CHARS else "…" + text[-MAX_OUTPUT_CHARS:]


def _http_once(
    hook: Hook, payload: Mapping[str, str], http: httpx.Client, headers: Mapping[str, str]
) -> tuple[bool, str]:
    assert hook.url is not None
    timeout = hook.timeout.total_seconds()
    where = redact_text(hook.url)
    try:
        if hook.method == "GET":
            response = http.get(
                hook.url, params=dict(payload), headers=dict(headers), timeout=timeout
            )
        else:
            response = http.post(
                hook.url, json=dict(payload), headers=dict(headers), timeout=timeout
            )
    except httpx.TimeoutException:
        return False, f"no answer from {where} within {timeout:g} s"
    except httpx.HTTPError as exc:
        return False, redact_text(f"could not reach {where}: {type(exc).__name__}: {exc}")
    body = _bounded(response.text[: MAX_OUTPUT_CHARS * 2])
    status = response.status_code
    ok = 200 <= status < 300
    return ok, f"HTTP {status}" + (f": {body}" if body else "")


def _command_once(hook: Hook, payload: Mapping[str, str]) -> tuple[bool, str]:
    assert hook.command is not None
    timeout = hook.timeout.total_seconds()
    env = {**os.environ, **{f"PHASED_{k.upper()}": v for k, v in payload.items()}}
    try:
        done = subprocess.run(
            list(hook.command),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        return False, f"{hook.command[0]!r} not found; install it or give its full path"
    except PermissionError:
        return False, f"{hook.command[0]} is not executable"
    except subprocess.TimeoutExpired as exc:
        out = (
            exc.stdout
            if isinstance(exc.stdout, str)
            else (exc.stdout or b"").decode(errors="replace")
        )
        shown = _bounded(out)
        return False, f"timed out after {timeout:g} s" + (f": {shown}" if shown else "")
    output = _bounded((done.stdout or "") + (done.stderr or ""))
    return done.returncode == 0, f"exit {done.returncode}" + (f": {output}" if output else "")


def run_hook(
    hook: Hook,
    payload: Mapping[str, str],
    *,
    http: httpx.Client,
    headers: Mapping[str, str] | None = None,
    sleep: float = RETRY_DELAY_SECONDS,
) -> HookResult:
    """Run ``hook`` with up to ``1 + retries`` attempts; never raises."""
    started = time.perf_counter()
    detail = ""
    attempts = 0
    for attempt in range(1 + hook.retries):
        attempts = attempt + 1
        try:
            if hook.url is not None:
                ok, detail = _http_once(hook, payload, http, headers or {})
            else:
                ok, detail = _command_once(hook, payload)
        except Exception as exc:  # a hook's failure is the hook's, never the engine's
            ok, detail = False, redact_text(f"{type(exc).__name__}: {exc}")
        if ok:
            return HookResult(True, detail, attempts, time.perf_counter() - started)
        if attempt < hook.retries:
            time.sleep(sleep * (attempt + 1))
    return HookResult(False, detail, attempts, time.perf_counter() - started)
