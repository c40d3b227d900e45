"""The packages of phased import each other only downwards (docs/architecture.md).

Read from the source with ``ast``: every ``import phased.X`` and
``from phased.X import ...`` (type-only imports included) of every module
under ``src/phased``. Four rules:

1. **Nothing imports upward.** Each package has a layer; an import may only
   go to the same or a lower layer. ``errors``, ``settings`` and the version
   are the floor that everything may use.
2. **The store is reached through the service layer.** Above ``service``
   (``backend``, ``engine``, ``server``, ``cli``, ``sdk``) a module may take
   from ``phased.store`` only the handle (``Store``, ``open_store``) and record
   types, never tables or queries, and never imports SQLAlchemy.
3. **The core is pure** (the rest of that rule is ``test_purity.py``): it
   imports nothing of phased outside itself but the floor.
4. **Queries live in the store.** ``service`` holds use cases and ``alerts``
   notifiers: neither imports a table module or builds SQL. They may name
   the ``Connection`` type in a signature, to hand a transaction on to the
   store's repository functions.

``KNOWN`` lists the places that still break rule 2, each with the reason; a
fixed one must leave the list (the test fails on a stale entry), and the list
may not grow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import phased

SRC = Path(phased.__file__).parent

FLOOR = {"errors", "settings", "__version__"}
"""Leaf modules every layer may import (they import nothing above themselves)."""

LAYERS: dict[str, int] = {
    "core": 1,  # pure domain
    "store": 2,  # tables, queries, audit chain, migrations
    "obs": 2,  # logging, redaction, traces (no data)
    "alerts": 3,  # notifiers, dedup, worker over the store's outbox
    "simulate": 3,  # the real decide() on a virtual clock
    "service": 4,  # use cases: the one place that mutates
    "sdk": 5,  # Client: evaluates in process, follows a store or a server
    "sources": 5,  # MetricSource protocol and providers (sdk outcomes, prometheus, web)
    "backend": 5,  # the typed Backend: local (service) or http (API)
    "engine": 6,  # the reconcile loop around decide(), fed by the metric sources
    "migrate": 6,  # golden scenarios, retire / refs / stale, deprecation of old commands
    "selfflags": 7,  # phased's own flags, read with its own SDK
    "openfeature": 7,
    "testing": 7,
    "server": 8,  # FastAPI app, API routes, dashboard
    "cli": 9,  # one module per command group
}

ABOVE_SERVICE = {"backend", "engine", "server", "cli", "sdk", "sources", "migrate"}
STORE_HANDLE = {
    "phased.store": {"Store", "open_store"},
    "phased.store.engine": {"Store", "open_store", "current_revision"},  # + migration state
    "phased.store.audit": {"AuditEntry", "ChainReport"},
    "phased.store.tokens": {"TokenRow"},
    "phased.store.archive": {"ArchivedFlag"},
    "phased.store.leader_lock": {"LeaderLock", "lock_for"},  # at most one engine per database
    "phased.store.url": {"sqlite_path"},  # the file a URL names, checked before serving
    "phased.store.errors": {"DatabaseError", "describe"},  # the driver's failures, in one line
}
"""What a module above the service layer may import from the store: the handle (opening it,
its migration state) and record types."""

KNOWN: dict[str, str] = {}
"""Known breaks of rule 2, with the reason; each should move behind the service layer or store."""


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every absolute import in ``path``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, a.name) for a in node.names]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def _target(module: str, name: str | None) -> str | None:
    """The phased package an import reaches (``from phased import errors`` -> errors)."""
    if module == "phased":
        return name
    if module.startswith("phased."):
        return module.split(".")[1]
    return None


class TestLayering:
    """Imports go downwards, and above the service layer the store is only a handle."""

    def test_every_package_has_a_layer(self) -> None:
        """A new top-level package or module must say where it sits."""
        packages = {_package(p) for p in _modules()} - FLOOR - {"__init__"}
        assert packages - LAYERS.keys() == set()

    def test_nothing_imports_upward(self) -> None:
        """An import reaches the same or a lower layer, or the floor."""
        offenders = []
        for path in _modules():
            here = _package(path)
            if here not in LAYERS:
                continue
            for module, name in _imports(path):
                there = _target(module, name)
                if there is None or there in FLOOR or there == here or there not in LAYERS:
                    continue
                if LAYERS[there] >= LAYERS[here]:
                    offenders.append(f"{path.relative_to(SRC)}: {module} ({here} -> {there})")
        assert offenders == []

    def test_floor_imports_nothing_above(self) -> None:
        """``errors`` imports nothing of phased; ``settings`` only ``errors``."""
        for name, allowed in (("errors", set()), ("settings", {"errors"})):
            reached = {_target(m, n) for m, n in _imports(SRC / f"{name}.py")} - {None}
            assert reached <= allowed, name

    def test_core_imports_only_core(self) -> None:
        """``phased.core`` imports nothing of phased outside core but the floor."""
        offenders = [
            f"{path.relative_to(SRC)}: {module}"
            for path in _modules()
            if _package(path) == "core"
            for module, name in _imports(path)
            if _target(module, name) not in (None, "core", *FLOOR)
        ]
        assert offenders == []

    def test_store_imports_only_core(self) -> None:
        """``phased.store`` imports only core and the floor."""
        offenders = [
            f"{path.relative_to(SRC)}: {module}"
            for path in _modules()
            if _package(path) == "store"
            for module, name in _imports(path)
            if _target(module, name) not in (None, "store", "core", *FLOOR)
        ]
        assert offenders == []

    def test_above_the_service_layer_the_store_is_a_handle(self) -> None:
        """No tables, queries or SQLAlchemy above ``service``, beyond the known list."""
        found = set()
        for path in _modules():
            if _package(path) not in ABOVE_SERVICE:
                continue
            rel = path.relative_to(SRC)
            for module, name in _imports(path):
                if module == "sqlalchemy" or module.startswith("sqlalchemy."):
                    found.add(f"{rel}: sqlalchemy")
                elif module.startswith("phased.store") and name not in STORE_HANDLE.get(
                    module, set()
                ):
                    found.add(f"{rel}: {module}.{name}" if name else f"{rel}: {module}")
        assert sorted(found - KNOWN.keys()) == [], "new direct store access above the service"
        assert sorted(KNOWN.keys() - found) == [], "fixed: remove these from KNOWN"

    def test_cli_has_one_way_to_the_service_layer(self) -> None:
        """No command picks a module by name: every call goes through the typed Backend."""
        offenders = [
            str(path.relative_to(SRC))
            for path in _modules()
            if _package(path) in ("cli", "backend")
            and path.name != "main.py"  # registers the command groups, a literal list
            and "import_module" in path.read_text("utf-8")
        ]
        assert offenders == []


SQL_FREE = ("service", "alerts")
"""Packages whose storage goes through ``store``'s repository modules (rule 4)."""


def test_queries_live_in_the_store() -> None:
    """No table imports and no SQLAlchemy in ``service`` or ``alerts`` but the Connection type."""
    offenders = sorted(
        f"{path.relative_to(SRC)}: {module}.{name}"
        if name
        else f"{path.relative_to(SRC)}: {module}"
        for path in _modules()
        if _package(path) in SQL_FREE
        for module, name in _imports(path)
        if (module.startswith(("phased.store.tables", "phased.store.migrations")))
        or (module == "phased.store" and name is not None and name.startswith("tables"))
        or (
            (module == "sqlalchemy" or module.startswith("sqlalchemy."))
            and not (module == "sqlalchemy" and name == "Connection")
        )
    )
    assert offenders == []
