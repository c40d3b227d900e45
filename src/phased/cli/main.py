"""The ``phased`` command: a root app plus one module per command group.

Each module in :data:`COMMAND_MODULES` exposes ``register(root)``; adding a
group is one module and one line here. Refusals (any
:class:`~phased.errors.PhasedError`) print one line on stderr and exit 1;
usage mistakes exit 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

COMMAND_MODULES: tuple[str, ...] = (
    "phased.cli.flag",
    "phased.cli.rollout_percent",
    "phased.cli.override",
    "phased.cli.segment",
    "phased.cli.evaluate",
    "phased.cli.flags_file",
    "phased.cli.audit",
    "phased.cli.demo",
    "phased.cli.alerts",
    "phased.cli.debug",
    "phased.cli.plan",
    "phased.cli.simulate",
    "phased.cli.judge",
    "phased.cli.token",
    "phased.cli.serve",
    "phased.cli.rollouts",
    "phased.cli.member",
    "phased.cli.incident",
    "phased.cli.slo",
    "phased.cli.engine",
    "phased.cli.sources",
    "phased.cli.triggers",
    "phased.cli.hooks",
    "phased.cli.golden",
    "phased.cli.compare",
    "phased.cli.decommission",
)


def fail(message: str, code: int = 1) -> None:
    """Print ``error: message`` as one line on stderr and exit."""
    from phased.cli.tracing import refused

    line = " ".join(str(message).split())
    refused(line)
    typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


class PhasedGroup(TyperGroup):
    """The root group: records each command's trace; refusals become one stderr line, exit 1."""

    def invoke(self, ctx: Any) -> Any:
        from phased.cli import tracing
        from phased.cli.common import forget_remote

        forget_remote()  # settings are read per invocation (tests run many in one process)
        try:
            name = tracing.command_name(self, ctx)
            if name is None:
                return self._run(ctx)
            with tracing.command(name, tracing.claimed_actor(ctx)):
                return self._run(ctx)
        finally:
            forget_remote()

    def _run(self, ctx: Any) -> Any:
        from phased.errors import PhasedError

        try:
            return super().invoke(ctx)
        except PhasedError as exc:
            fail(str(exc))
        except (typer.Exit, typer.TyperException):
            raise  # help, exit codes, usage: before the check below imports SQLAlchemy
        except Exception as exc:
            from phased.store.errors import DatabaseError, describe

            if not isinstance(exc, DatabaseError):
                raise
            fail(describe(exc))
        return None


app = typer.Typer(
    name="phased",
    cls=PhasedGroup,
    help="phased: feature flags, rollouts with measured gates, and a hash-chained audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from phased import __version__

        typer.echo(f"phased {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """phased: progressive delivery as code."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _configure_logging() -> None:
    # Once per process, before any command: phased's own log lines (and any
    # library's) become JSON on stderr, so stdout only ever carries results.
    import logging

    from phased.errors import PhasedError
    from phased.obs.log import configure_logging
    from phased.settings import load_settings

    try:
        settings = load_settings()
        configure_logging(settings)
    except PhasedError as exc:
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        sys.exit(1)
    if settings.log_level.lower() != "debug":
        # httpx logs every request at info; against a server that is a line per command.
        for chatty in ("httpx", "httpcore"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``phased``)."""
    try:
        words = sys.argv[1:] if argv is None else argv
        # Help and --version log nothing: skipping the set-up keeps them fast.
        if words and not any(w in ("--help", "-h", "--version") for w in words):
            _configure_logging()
        app(args=argv, prog_name="phased")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
