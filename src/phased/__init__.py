"""phased: progressive delivery as code."""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

__version__ = "0.1.0"

__all__ = ["Client", "Evaluation", "__version__"]

if TYPE_CHECKING:
    from importlib.abc import Loader

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


_MOVED = {"phased.slo": "phased.obs.slo"}
"""Modules that moved, importable by their old names too (``from phased import slo``)."""


class _OldNames:
    """Imports a moved module under its old name: the new module itself, loaded on first use.

    A finder at the end of ``sys.meta_path`` (asked only when no file matched), so
    ``import phased`` stays cheap and the old name needs no file of its own.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        # A Loader in all but name: importing importlib.abc would cost `import phased` 40 ms.
        return ModuleSpec(name, cast("Loader", self)) if name in _MOVED else None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(_MOVED[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # It already ran under its new name; importing it again set __spec__ to the old
        # name's: put its own back (reload, pickling and -m read it).
        alias = module.__spec__
        assert alias is not None
        module.__spec__ = alias.loader_state


if not any(isinstance(f, _OldNames) for f in sys.meta_path):
    sys.meta_path.append(_OldNames())
