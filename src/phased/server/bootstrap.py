"""A newcomer's first start: the examples loaded, the first admin token printed.

Runs only on an empty store (revision 0: nothing was ever changed), so a
restart never re-applies the examples or mints another token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phased.core.flagfile import parse_flagset
from phased.errors import PhasedError
from phased.service import apply as apply_service
from phased.service import tokens as token_service
from phased.store.engine import Store

ACTOR = "phased-serve-bootstrap"


@dataclass(slots=True)
class Bootstrapped:
    """What the first start did."""

    admin_secret: str | None = None
    flags_loaded: int = 0
    plans_applied: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def bootstrap(store: Store, examples: Path) -> Bootstrapped:
    """Load ``examples/flags.yaml`` and apply ``examples/plans/*.yaml`` into an empty store,
    then create the first admin token if there is none. Problems are reported, not raised.
    """
    done = Bootstrapped()
    if store.revision() == 0:
        _load_examples(store, examples, done)
    if not token_service.has_tokens(store):
        new = token_service.create_token(store, actor=ACTOR, name="admin", role="admin")
        done.admin_secret = new.secret
    return done


def _load_members(store: Store, examples: Path, done: Bootstrapped) -> None:
    # The example plans ask admins and PMs to approve stages; without people
    # holding those roles they could never be applied.
    path = examples / "members.yaml"
    if not path.is_file():
        return
    from phased.core.source import parse_yaml
    from phased.service import members as member_service

    doc = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    people = doc.data.get("members", []) if isinstance(doc.data, dict) else []
    for i, person in enumerate(people):
        try:
            first_admin = done.members[0] if done.members else ACTOR
            member_service.add_member(
                store, actor=first_admin, name=person["name"], roles=person["roles"]
            )
            done.members.append(person["name"])
        except (PhasedError, KeyError, TypeError) as exc:
            done.problems.append(f"{path.name}: members[{i}]: {exc}")


def _load_examples(store: Store, examples: Path, done: Bootstrapped) -> None:
    _load_members(store, examples, done)
    flags_file = examples / "flags.yaml"
    if flags_file.is_file():
        try:
            wanted = parse_flagset(flags_file.read_text(encoding="utf-8"), str(flags_file))
            outcome = apply_service.apply(store, actor=ACTOR, wanted=wanted, source=str(flags_file))
            done.flags_loaded = sum(1 for c in outcome.changes if c.kind == "flag")
        except PhasedError as exc:
            done.problems.append(str(exc))
            return
    plans = sorted((examples / "plans").glob("*.yaml")) if (examples / "plans").is_dir() else []
    if not plans:
        return
    from phased.service import plan_rollouts

    for path in plans:
        try:
            plan_rollouts.apply_plan(
                store, actor=ACTOR, text=path.read_text(encoding="utf-8"), path=str(path)
            )
            done.plans_applied.append(path.name)
        except PhasedError as exc:
            done.problems.append(f"{path.name}: {exc}")
