"""phased: progressive delivery as code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Client", "Evaluation", "__version__"]

if TYPE_CHECKING:
    from phased.core.evaluate import Evaluation
    from phased.sdk.client import Client


def __getattr__(name: str) -> Any:
    # Lazy so that `import phased` stays cheap and never pulls SQLAlchemy into
    # an application that only evaluates from a file.
    if name == "Client":
        from phased.sdk.client import Client

        return Client
    if name == "Evaluation":
        from phased.core.evaluate import Evaluation

        return Evaluation
    raise AttributeError(name)
