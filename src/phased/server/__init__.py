"""The control plane's HTTP server: ``phased serve``.

:func:`create_app` builds the FastAPI application around one store; routes
call the service layer (never SQL), one exception handler maps every
:class:`~phased.errors.PhasedError` to ``{"error": {...}}``. See ``docs/api.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phased.server.app import create_app
    from phased.server.config import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI's client side (phased.backend.http) must not load FastAPI.
    if name == "create_app":
        from phased.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from phased.server.config import ServerSettings

        return ServerSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
