"""The control plane's HTTP server: ``phased serve``.

:func:`create_app` builds the FastAPI application around one store; routes
call the service layer (never SQL), one exception handler maps every
:class:`~phased.errors.PhasedError` to ``{"error": {...}}``. See ``docs/api.md``.
"""

from __future__ import annotations

from phased.server.app import create_app
from phased.server.config import ServerSettings

__all__ = ["ServerSettings", "create_app"]
