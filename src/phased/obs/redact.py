"""Secret redaction for everything that leaves the process.

Two layers, both applied by :func:`redact_secrets`:

* **by key** (seed 001): a mapping key containing ``token``, ``secret``,
  ``password``, ``key``, ``authorization`` or ``api_key`` (case-insensitive)
  has its value replaced by ``***`` plus the value's last 4 characters, or
  ``***`` alone when the value has 4 characters or fewer. Everything under
  such a key is masked, nested containers included, so a secret cannot hide
  one level further down.
* **by value**: strings that look like credentials are masked wherever they
  appear, even under innocent keys or inside a log message: ``Bearer …``,
  GitHub tokens (``ghp_``/``gho_``/``ghs_``/``ghu_``/``ghr_``/``github_pat_``),
  AWS access key ids (``AKIA…``), ``sk-…`` API keys, Slack ``xox…`` tokens,
  passwords inside URLs and the token part of Discord and Slack webhook URLs,
  phased's own API tokens (``phd_…``), and query parameters named like a
  secret (``?token=…``, ``&api_key=…``; not plain ``key``, which names flags).
(``Bearer``/``Basic`` need 8+ characters after them, so prose stays readable.)

Containers are walked recursively (dicts, lists, tuples, sets); the shape and
the container types are preserved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

SENSITIVE_KEY_PARTS: tuple[str, ...] = (
    "token",
    "secret",
    "password",
    "key",
    "authorization",
    "api_key",
)

# phased's own identifiers that merely contain "key": redacting them would make
# logs and audit details unreadable while protecting nothing.
EXEMPT_KEYS: frozenset[str] = frozenset({"flag_key", "group_key", "dedup_key"})


def mask(value: str) -> str:
    """``***`` plus the last 4 characters, or ``***`` for 4 characters or fewer."""
    if len(value) <= 4:
        return MASK
    return MASK + value[-4:]


def is_sensitive_key(key: object) -> bool:
    """Whether a mapping key names a secret (case-insensitive substring match)."""
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    if lowered in EXEMPT_KEYS:
        return False
    return any(part in lowered for part in SENSITIVE_KEY_PARTS)


def _mask_group(group: int) -> Any:
    def replace(match: re.Match[str]) -> str:
        start, end = match.span(group)
        whole_start = match.start()
        text = match.group(0)
        return text[: start - whole_start] + mask(match.group(group)) + text[end - whole_start :]

    return replace


# (pattern, index of the group that is the secret). Ordered: URL forms first so
# a token inside a URL is masked once, as part of the URL rule.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(
            r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/"
            r"([A-Za-z0-9_\-]+)"
        ),
        1,
    ),
    (
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/\-]+)"),
        1,
    ),
    (re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:([^\s/@]+)@"), 1),
    # 8+ characters: "token expired" or "bearer of bad news" are prose, not credentials.
    (re.compile(r"\b(?:Bearer|Basic)\s+([A-Za-z0-9._~+/=\-]{8,})", re.IGNORECASE), 1),
    (re.compile(r"\b((?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,})"), 1),
    (re.compile(r"\b(github_pat_[A-Za-z0-9_]{20,})"), 1),
    (re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1),
    (re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,})"), 1),
    (re.compile(r"\b(sk_(?:live|test)_[A-Za-z0-9]{10,})"), 1),
    (re.compile(r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})"), 1),
    (re.compile(r"\b(phd_[A-Za-z0-9_\-]{12,})"), 1),
    (
        re.compile(
            r"[?&;][A-Za-z0-9_.\-]*(?:token|secret|password|passwd|api_?key|authorization)"
            r"[A-Za-z0-9_.\-]*=([^&;#\s\"']+)",
            re.IGNORECASE,
        ),
        1,
    ),
)


def redact_text(text: str) -> str:
    """Mask every credential-looking substring of ``text``."""
    for pattern, group in _VALUE_PATTERNS:
        if pattern.search(text):
            text = pattern.sub(_mask_group(group), text)
    return text


def _mask_all(value: Any) -> Any:
    """Mask every leaf under a sensitive key; None and booleans carry no secret."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask_all(v) for v in value)
    if isinstance(value, set | frozenset):
        return type(value)(_mask_all(v) for v in value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return mask(str(value))


def redact_secrets(data: Any) -> Any:
    """Return a copy of ``data`` with secrets masked, by key and by value.

    Args:
        data: any JSON-like value: mappings, lists, tuples, sets, strings, scalars.

    Returns:
        The same shape with sensitive values replaced; other values unchanged.
    """
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, Mapping):
        return {
            k: _mask_all(v) if is_sensitive_key(k) else redact_secrets(v) for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_secrets(v) for v in data]
    if isinstance(data, tuple):
        return tuple(redact_secrets(v) for v in data)
    if isinstance(data, set | frozenset):
        return type(data)(redact_secrets(v) for v in data)
    return data
