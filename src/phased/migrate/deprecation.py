"""Seed 004's deprecation steps for old commands, driven by the plan's stages.

The plan says, per stage, what the old command does from then on
(``deprecate: warn | redirect | removed``; before any, it runs as before)::

    handle = Deprecation(
        client, "unified_pipeline",
        old="process-issues", new="process-pipeline --stage preparation",
        guide="docs/development/workflow-refactor/05-migration-strategy.md",
        removed_in="2.0",
    )

    def handle_process_issues_command(args):
        return handle.run(
            legacy=lambda: process_issues(args),
            redirect=lambda: handle_process_pipeline_command(convert(args)),
        )

- ``active``: ``legacy()`` runs;
- ``warn``: ``legacy()`` runs after a deprecation warning (a log line on
  ``phased.deprecation`` and a Python ``DeprecationWarning``) naming the new
  command and the guide;
- ``redirect``: ``redirect()`` runs instead, with a log line saying so;
- ``removed``: :class:`~phased.errors.DeprecatedCommandError` is raised with
  the new command and the guide, and neither runs.

The phase comes from ``phase=`` if given, else from the flag's latest rollout
(``Client.local`` follows the store: ``client.comparisons.deprecations``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from phased.core.compare import DeprecationPhase
from phased.errors import DeprecatedCommandError

if TYPE_CHECKING:
    from phased.sdk.client import Client

log = logging.getLogger("phased.deprecation")
T = TypeVar("T")


class Deprecation:
    """One old command on its way out."""

    def __init__(
        self,
        client: Client | None,
        flag: str,
        *,
        old: str,
        new: str,
        guide: str | None = None,
        removed_in: str | None = None,
        phase: DeprecationPhase | str | None = None,
    ) -> None:
        self.client = client
        self.flag = flag
        self.old = old
        self.new = new
        self.guide = guide
        self.removed_in = removed_in
        self.fixed = None if phase is None else DeprecationPhase(phase)

    @property
    def phase(self) -> DeprecationPhase:
        """The phase in force now."""
        if self.fixed is not None:
            return self.fixed
        if self.client is None:
            return DeprecationPhase.ACTIVE
        known = self.client.comparisons.deprecations.get(self.flag)
        return DeprecationPhase(known) if known else DeprecationPhase.ACTIVE

    def message(self, phase: DeprecationPhase) -> str:
        """What the person running the old command reads."""
        guide = f"\nMigration guide: {self.guide}" if self.guide else ""
        if phase is DeprecationPhase.REMOVED:
            return f"The '{self.old}' command has been removed.\nUse: {self.new}{guide}"
        if phase is DeprecationPhase.REDIRECT:
            return f"'{self.old}' is deprecated: redirecting to {self.new}{guide}"
        when = (
            f"\nThis command will be removed in version {self.removed_in}"
            if self.removed_in
            else ""
        )
        return (
            f"DEPRECATION NOTICE: the '{self.old}' command is deprecated.\n"
            f"Please migrate to: {self.new}{when}{guide}"
        )

    def run(self, *, legacy: Callable[[], T], redirect: Callable[[], T] | None = None) -> T:
        """Run the old command, warn, redirect or refuse, as the phase says."""
        phase = self.phase
        if phase is DeprecationPhase.REMOVED:
            raise DeprecatedCommandError(self.message(phase), field="command")
        if phase is DeprecationPhase.REDIRECT:
            if redirect is None:
                raise DeprecatedCommandError(
                    f"'{self.old}' is in its redirect phase but no redirect was given; "
                    f"use: {self.new}",
                    field="command",
                )
            log.info(self.message(phase))
            return redirect()
        if phase is DeprecationPhase.WARN:
            text = self.message(phase)
            log.warning(text)
            warnings.warn(text, DeprecationWarning, stacklevel=2)
        return legacy()
