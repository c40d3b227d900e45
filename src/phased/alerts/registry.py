"""The alert channel kinds: one line per kind.

Adding a channel is one module with a class implementing
:class:`phased.alerts.base.Notifier`, one line here, one test file and a
section in docs/alerts.md.
"""

from __future__ import annotations

from typing import Any

import httpx

from phased.alerts.base import Notifier
from phased.alerts.discord import DiscordNotifier
from phased.alerts.log import LogNotifier
from phased.alerts.slack import SlackNotifier
from phased.alerts.webhook import WebhookNotifier
from phased.errors import ConfigurationError

NOTIFIER_KINDS: dict[str, type[Any]] = {
    "discord": DiscordNotifier,
    "slack": SlackNotifier,
    "webhook": WebhookNotifier,
    "log": LogNotifier,
}
# Kinds that post over HTTP and so need a `url`.
NEEDS_URL: frozenset[str] = frozenset({"discord", "slack", "webhook"})


def check_kind(kind: str, *, field: str) -> None:
    """Refuse an unknown kind with a message listing the valid ones."""
    if kind not in NOTIFIER_KINDS:
        raise ConfigurationError(
            f"unknown channel kind {kind!r}; valid kinds: {', '.join(sorted(NOTIFIER_KINDS))}",
            field=field,
        )


def build_notifier(
    name: str,
    kind: str,
    *,
    http: httpx.Client,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Notifier:
    """Instantiate the notifier for one configured channel."""
    check_kind(kind, field=f"channels.{name}.kind")
    if kind in NEEDS_URL and not url:
        raise ConfigurationError(
            f"a {kind} channel needs a url (the webhook address); add `url:`",
            field=f"channels.{name}.url",
        )
    notifier: Notifier = NOTIFIER_KINDS[kind](
        name, url=url, http=http, headers=headers, timeout=timeout
    )
    return notifier
