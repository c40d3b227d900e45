"""Secret redaction for everything that leaves the process.

Two layers, both applied by :func:`redact_secrets`:

* **by key** (seed 001): a mapping key containing ``token``, ``secret``,
  ``password``, ``passwd``, ``credential``, ``key``, ``authorization`` or
  ``api_key`` (case-insensitive)
  has its value replaced by ``***`` plus the value's last 4 characters, or
  ``***`` alone when the value has 4 characters or fewer. Everything under
  such a key is masked, nested containers included, so a secret cannot hide
  one level further down.
* **by value**: strings that look like credentials are masked wherever they
  appear, even under innocent keys or inside a log message or an exception:
  ``name=value``, ``name: value``, ``name="value"`` where the name contains
  ``token``, ``secret``, ``password``/``passwd``/``pwd``, ``api_key``,
  ``access_key``, ``private_key``, ``authorization`` or ``credential``
  (not plain ``key``, which names flags); the ``Authorization`` header and
  ``Bearer``/``Basic`` credentials; passwords inside URLs and the token part
  of Discord and Slack webhook URLs; known token shapes (GitHub, GitLab,
  AWS, Google, OpenAI/Stripe ``sk-``/``sk_live_``, Slack ``xox…``, npm,
  JWTs, PEM private keys, phased's own ``phd_…``).

No false alarms: an unlabelled word (after ``Bearer``/``Basic`` or
``token:``) is masked only when it is shaped like a credential
(:func:`looks_like_credential`: a digit, a symbol, base64-like case changes,
or 24+ characters), so "Use basic authentication" stays as written; and
placeholders (``token=...``, ``<token>``, ``${HOOK_TOKEN}``, ``SDK_TOKEN``,
``***abcd``) are left alone (:func:`is_placeholder`). The test suite runs the
redactor over every page of ``docs/`` and README.md and requires no change.

Containers are walked recursively (dicts, lists, tuples, sets); the shape and
the container types are preserved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

MASK = "***"

SENSITIVE_KEY_PARTS: tuple[str, ...] = (
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
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


def is_sensitive_key(key: object, keep: frozenset[str] = EXEMPT_KEYS) -> bool:
    """Whether a mapping key names a secret (case-insensitive substring match).

    Args:
        keep: lower-case keys that are never secrets (default :data:`EXEMPT_KEYS`).
    """
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    if lowered in keep:
        return False
    return any(part in lowered for part in SENSITIVE_KEY_PARTS)


# Words that, before ``=`` or ``:`` in free text, name a secret value
# (``password=…``, ``token: …``, ``api_key="…"``, ``X-Api-Key: …``). Bare ``key``
# is not one of them: ``key=checkout`` names a flag.
_SECRET_NAME = (
    r"(?:token|secret|passw(?:or)?d|pwd|api[_\-]?key|access[_\-]?key|private[_\-]?key"
    r"|authorization|credentials?)"
)
_SECRET_KEY_TEXT = rf"[A-Za-z0-9_.\-]*{_SECRET_NAME}[A-Za-z0-9_.\-]*"
_TOKEN_CHARS = r"A-Za-z0-9._~+/=\-"
_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})


def is_placeholder(value: str) -> bool:
    """Whether ``value`` stands for a secret instead of being one.

    Documentation and error messages write ``token=...``, ``PHASED_TOKEN=<the
    token>``, ``"Bearer ${HOOK_TOKEN}"``, ``token=SDK_TOKEN``, ``user:PASSWORD@``
    or an already masked ``***abcd``; none of them is a credential, and masking
    them would only make the text unreadable.
    """
    stripped = value.strip("\"'` ")
    scheme, _, rest = stripped.partition(" ")
    if rest and scheme.lower() in _SCHEMES:
        stripped = rest.strip()
    return (
        not stripped
        or stripped.startswith(("$", "<", "{", "%", "*"))
        or "${" in stripped
        or "..." in stripped
        or "\u2026" in stripped
        or re.fullmatch(r"[A-Z_]+", stripped) is not None
    )


def looks_like_credential(value: str) -> bool:
    """Whether an unlabelled word is shaped like a credential rather than prose.

    A credential of 8+ characters holds a digit or a symbol, switches from
    lower to upper case more than once (base64: ``dXNlcjpwYXNz``), or is longer
    than any word; a word (``authentication``, ``commands``, ``OpenFeature``,
    ``PostgreSQL``) is none of these.
    """
    # Sentence punctuation ends a word, it is not part of a token: "Basic Actions."
    value = value.rstrip(".,;:!?")
    if len(value) < 8 or is_placeholder(value):
        return False
    rises = sum(1 for a, b in pairwise(value) if a.islower() and b.isupper())
    return (
        len(value) >= 24
        or rises >= 2
        or any(c.isdigit() for c in value)
        or any(c in "._~+/=-" for c in value)
    )


def _mask_group(group: int, check: Any = None) -> Any:
    def replace(match: re.Match[str]) -> str:
        secret = match.group(group)
        if secret is None or is_placeholder(secret) or (check is not None and not check(secret)):
            return match.group(0)
        start, end = match.span(group)
        whole_start = match.start()
        text = match.group(0)
        return text[: start - whole_start] + mask(secret) + text[end - whole_start :]

    return replace


def _mask_pair(match: re.Match[str]) -> str:
    """``name=value`` / ``name: value`` in free text; ``:`` needs a credential-shaped value."""
    for group in ("dq", "sq", "bare"):
        secret = match.group(group)
        if secret is not None:
            break
    else:  # pragma: no cover - the pattern always captures one of the three
        return match.group(0)
    labelled = group != "bare" or match.group("sep") == "="
    if is_placeholder(secret) or not (labelled or looks_like_credential(secret)):
        return match.group(0)
    start, end = match.span(group)
    text = match.group(0)
    offset = match.start()
    return text[: start - offset] + mask(secret) + text[end - offset :]


# (pattern, index of the group that is the secret, extra check on the secret).
# Ordered: URL forms first so a token inside a URL is masked once, by the URL rule.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], int, Any], ...] = (
    (
        re.compile(
            r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/"
            r"([A-Za-z0-9_\-]+)"
        ),
        1,
        None,
    ),
    (
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/\-]+)"),
        1,
        None,
    ),
    (re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:([^\s/@]+)@"), 1, None),
    # The Authorization header, with or without a scheme.
    (
        re.compile(
            r"\bAuthorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:(?:Bearer|Basic|Token|Digest)[ \t]+)?"
            rf"([{_TOKEN_CHARS}]+)",
            re.IGNORECASE,
        ),
        1,
        lambda value: value.lower() not in _SCHEMES and looks_like_credential(value),
    ),
    # Anywhere else the word after Bearer/Basic must be shaped like a credential:
    # "basic authentication" and "the bearer of bad news" are prose.
    (
        re.compile(rf"\b(?:Bearer|Basic)[ \t]+([{_TOKEN_CHARS}]{{8,}})", re.IGNORECASE),
        1,
        looks_like_credential,
    ),
    (
        re.compile(
            r"(-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)", re.DOTALL
        ),
        1,
        None,
    ),
    (re.compile(r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"), 1, None),
    (re.compile(r"\b((?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,})"), 1, None),
    (re.compile(r"\b(github_pat_[A-Za-z0-9_]{20,})"), 1, None),
    (re.compile(r"\b(glpat-[A-Za-z0-9_\-]{20,})"), 1, None),
    (re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1, None),
    (re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})"), 1, None),
    (re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,})"), 1, None),
    (re.compile(r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,})"), 1, None),
    (re.compile(r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})"), 1, None),
    (re.compile(r"\b(npm_[A-Za-z0-9]{30,})"), 1, None),
    (re.compile(r"\b(phd_[A-Za-z0-9_\-]{12,})"), 1, None),
)

# ``password=…``, ``token: …``, ``api_key="…"``, ``"secret": "…"``, ``?access_token=…``.
_PAIR = re.compile(
    rf"(?<![A-Za-z0-9])(?P<name>{_SECRET_KEY_TEXT})[\"']?[ \t]*(?P<sep>=|:(?!:))[ \t]*"
    # A value that is itself the next pair (``secrets: password: …``) is not this
    # pair's: leave it to the next match.
    rf"(?!(?:{_SECRET_KEY_TEXT})[\"']?[ \t]*(?:=|:(?!:)))"
    r"(?:\"(?P<dq>[^\"\n]{1,400})\"|'(?P<sq>[^'\n]{1,400})'|(?P<bare>[^\s\"'&;,#<>()\[\]{}]+))",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """Mask every credential-looking substring of ``text``."""
    for pattern, group, check in _VALUE_PATTERNS:
        if pattern.search(text):
            text = pattern.sub(_mask_group(group, check), text)
    if _PAIR.search(text):
        text = _PAIR.sub(_mask_pair, text)
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


def redact_secrets(data: Any, *, keep: frozenset[str] = EXEMPT_KEYS) -> Any:
    """Return a copy of ``data`` with secrets masked, by key and by value.

    Args:
        data: any JSON-like value: mappings, lists, tuples, sets, strings, scalars.
        keep: lower-case mapping keys whose values are not masked by key (their
            strings are still scanned by value); default :data:`EXEMPT_KEYS`.

    Returns:
        The same shape with sensitive values replaced; other values unchanged.
    """
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, Mapping):
        return {
            k: _mask_all(v) if is_sensitive_key(k, keep) else redact_secrets(v, keep=keep)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_secrets(v, keep=keep) for v in data]
    if isinstance(data, tuple):
        return tuple(redact_secrets(v, keep=keep) for v in data)
    if isinstance(data, set | frozenset):
        return type(data)(redact_secrets(v, keep=keep) for v in data)
    return data
