"""The flags file: bad input names file, line and field; export and parse round-trip."""

from __future__ import annotations

import pytest

from phased.core.flagfile import dump_flagset, parse_flagset
from phased.errors import SourceError

GOOD = """\
version: 1
segments:
  staff:
    where: role in [admin, pm]
flags:
  awf_bundle:
    description: AWF pipeline
    env_var: AWF_BUNDLE_ON
    environments:
      prod:
        rollout: 25.5
        rules:
          - segment: staff
        overrides:
          - {attribute: user, value: user-123, serve: true, expires: 2027-01-01T00:00:00Z}
  checkout:
    variants: {control: 50, treatment: 50}
    off_variant: control
    environments:
      dev: {default: treatment}
"""


class TestRoundTrip:
    """``dump_flagset`` writes what ``parse_flagset`` reads back unchanged."""

    def test_round_trip(self) -> None:
        fs = parse_flagset(GOOD)
        assert parse_flagset(dump_flagset(fs)) == fs

    def test_export_one_environment(self) -> None:
        text = dump_flagset(parse_flagset(GOOD), environment="prod")
        assert "dev:" not in text
        assert "rollout: 25.5" in text


def error_for(text: str) -> str:
    with pytest.raises(SourceError) as err:
        parse_flagset(text, "flags.yaml")
    return str(err.value)


class TestBadInput:
    """Each mistake is reported as ``file:line: field: problem`` with the fix."""

    @pytest.mark.parametrize(
        ("old", "new", "expected"),
        [
            (
                "rollout: 25.5",
                "rollout: 101",
                "flags.yaml:11: flags.awf_bundle.environments.prod.rollout: must be between 0 and 100 (got 101",
            ),
            (
                "rollout: 25.5",
                "rollout: -1",
                "flags.yaml:11: flags.awf_bundle.environments.prod.rollout: must be between",
            ),
            ("rollout: 25.5", "rollout: 2.555", "has at most two decimals"),
            ("  awf_bundle:", "  AWF:", "flags.yaml:6: flags.AWF.key: invalid flag key 'AWF'"),
            (
                "- segment: staff",
                "- segment: admins",
                "flags.yaml:13: flags.awf_bundle.environments.prod.rules[0].segment: unknown segment 'admins'; create it first or use one of: staff",
            ),
            (
                "      prod:",
                "      qa:",
                "flags.awf_bundle.environments.qa: unknown environment; known: dev, staging, prod",
            ),
            (
                "{control: 50, treatment: 50}",
                "{control: 50, treatment: 40}",
                "variant weights must sum to 100 (got 90)",
            ),
            (
                "dev: {default: treatment}",
                "dev: {default: blue}",
                "flags.checkout.environments.dev.default: 'blue' is not a value of this flag (control, treatment)",
            ),
            ("role in [admin, pm]", "role within [admin]", "unknown operator 'within'"),
            (
                "    env_var: AWF_BUNDLE_ON",
                "    env_var: AWF-ON",
                "invalid environment variable name",
            ),
            (
                "    description: AWF pipeline",
                "    descripton: AWF pipeline",
                "flags.yaml:7: flags.awf_bundle.descripton: is not a known field",
            ),
        ],
    )
    def test_error(self, old: str, new: str, expected: str) -> None:
        assert old in GOOD
        assert expected in error_for(GOOD.replace(old, new, 1))

    def test_yaml_syntax_error_names_line(self) -> None:
        assert error_for("flags:\n  a: {b: [1, 2}\n").startswith("flags.yaml:2: invalid YAML")

    def test_duplicate_key(self) -> None:
        assert "flags.yaml:3: flags.a: duplicate key 'a'" in error_for("flags:\n  a: {}\n  a: {}\n")

    def test_prerequisite_cycle(self) -> None:
        text = "flags:\n  a: {requires: [{flag: b}]}\n  b: {requires: [{flag: a}]}\n"
        assert "prerequisites form a cycle: a -> b -> a" in error_for(text)

    def test_wrong_version(self) -> None:
        assert "flags.yaml:1: version: unsupported version 2" in error_for("version: 2\n")
