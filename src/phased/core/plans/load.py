"""Reading a plan file and describing its format as JSON Schema."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from phased.core.plans.model import DEFAULT_ROLES, Plan
from phased.core.source import parse_yaml


def parse_plan(
    text: str,
    path: str = "<string>",
    *,
    roles: Iterable[str] = DEFAULT_ROLES,
    environments: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
) -> Plan:
    """Parse and validate a plan file.

    Args:
        text: the YAML text.
        path: the file name used in error messages.
        roles: the roles people can hold; an approval naming another role is refused.
        environments: the environments flags have; a stage in another one is refused
            (None: not checked).
        sources: the configured metric sources (sources.yaml); None skips that check.

    Raises:
        SourceError: ``file:line: field: problem`` for the first mistake.
    """
    doc = parse_yaml(text, path)
    if not isinstance(doc.data, dict):
        raise doc.error("a plan is a mapping with 'flag' and 'stages' (see docs/plans.md)")
    context: dict[str, Any] = {"roles": tuple(roles)}
    if environments is not None:
        context["environments"] = tuple(environments)
    if sources is not None:
        context["sources"] = tuple(sources)
    return doc.validate(Plan, context=context)


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a plan file (``phased plan schema``)."""
    schema = Plan.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "phased rollout plan"
    return schema
