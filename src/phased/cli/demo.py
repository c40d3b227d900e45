"""``phased demo``: the embedded store with the seeds' flags, at a glance (``make run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phased.cli.common import Actor, Db, console, local_store, settings

EXAMPLE = Path("examples") / "flags.yaml"


def example_file(given: Path | None) -> Path:
    """The flags file to load: ``--file``, ./examples/flags.yaml, or the repository's copy."""
    from phased.errors import ValidationError

    candidates = [given] if given else [EXAMPLE, Path(__file__).resolve().parents[3] / EXAMPLE]
    for path in candidates:
        if path.is_file():
            return path
    raise ValidationError(
        f"no flags file at {', '.join(map(str, candidates))}; pass --file PATH", field="file"
    )


def demo(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Flags file loaded into an empty store.", show_default=False),
    ] = None,
    actor: Actor = None,
    db: Db = None,
) -> None:
    """Open (or create) the store, load the example flags if it is empty, show its state.

    Example: phased demo --db sqlite:///./phased.db
    """
    from phased.cli.flag import flags_table
    from phased.core.flagfile import parse_flagset
    from phased.service import apply, audit, flags
    from phased.store.engine import current_revision

    out = console()
    with local_store(db, "demo") as store:
        if not flags.list_flags(store):
            path = example_file(file)
            wanted = parse_flagset(path.read_text(encoding="utf-8"), str(path))
            outcome = apply.apply(
                store,
                actor=actor or settings().actor or "demo",
                wanted=wanted,
                source=str(path),
            )
            out.print(f"loaded {path}: {len(outcome.changes)} changes applied")
        rows = flags.list_flags(store)
        report = audit.verify(store)
        out.print(
            f"[bold]store[/bold] {store.url} · migration {current_revision(store)} · "
            f"revision {store.revision()}"
        )
        out.print(flags_table(rows, list(store.environments)))
        colour = "green" if report.ok else "red"
        out.print(f"[{colour}]{report.summary()}[/{colour}]")
    out.print()
    typer.echo(ctx.find_root().get_help())


def register(root: typer.Typer) -> None:
    """Add ``phased demo`` to the root app."""
    root.command("demo")(demo)
