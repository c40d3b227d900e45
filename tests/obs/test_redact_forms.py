"""Redaction both ways: every written form of a secret is masked, prose is left alone (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phased.obs import redact_secrets, redact_text

REPO = Path(__file__).parents[2]


class TestFreeTextPairs:
    """``name=value``, ``name: value`` and quoted forms in free text hide the value."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("connect failed: password=hunter2hunter2", "connect failed: password=***ter2"),
            ("token: abc123def456", "token: ***f456"),
            ('api_key="k3y-value-99"', 'api_key="***e-99"'),
            ("api_key='k3y-value-99' rest", "api_key='***e-99' rest"),
            ('{"db_password": "s3cret-pw"}', '{"db_password": "***t-pw"}'),
            ("X-Api-Key: 0123456789abcdef", "X-Api-Key: ***cdef"),
            ("client_secret=Zm9vYmFy, next", "client_secret=***YmFy, next"),
            ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***YXNz"),
            ("Authorization: 0123456789abcdef", "Authorization: ***cdef"),
            (
                "curl -H 'Authorization: Bearer abc.def.ghi1'",
                "curl -H 'Authorization: Bearer ***ghi1'",
            ),
        ],
    )
    def test_masked(self, text: str, expected: str) -> None:
        assert redact_text(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "gitlab glpat-abcdefghij0123456789",
            "google AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "stripe rk_live_abcdefghij0123",
        ],
    )
    def test_known_token_shapes(self, text: str) -> None:
        redacted = redact_text(text)
        assert "***" in redacted
        assert "0123456789" not in redacted
        assert "MIIEowIBAAKCAQEA" not in redacted


class TestNestedPairs:
    """A pair's value is never the next pair's name: ``secrets: password: …`` masks the password."""

    @pytest.mark.parametrize(
        ("text", "secret", "name"),
        [
            ("Secrets: password: 00000000 Above", "00000000", "password:"),
            ("credentials: token=0a1b2c3d4e5f rest", "0a1b2c3d4e5f", "token="),
        ],
    )
    def test_inner_pair_is_masked(self, text: str, secret: str, name: str) -> None:
        redacted = redact_text(text)
        assert secret not in redacted
        assert name in redacted  # the inner name stays readable


class TestNoFalseAlarms:
    """Ordinary words after Basic/Bearer/token and placeholders stay as written."""

    @pytest.mark.parametrize(
        "text",
        [
            "Use basic authentication",
            "Basic Actions.",  # sentence punctuation is not part of a token
            "smoke tests passed with basic commands",
            "Bearer authentication is described in RFC 6750",
            "authorization: bearer tokens are checked per request",
            "Every request carries a token: the admin creates it",
            "token: OpenFeature providers",
            "PHASED_TOKEN=<the token> phased flag list",
            "export PHASED_TOKEN=... first",
            'headers: {Authorization: "Bearer ${HOOK_TOKEN}"}',
            "Client(url=..., token=SDK_TOKEN)",
            "postgresql+psycopg://user:PASSWORD@host:5432/db",
            "the key=checkout query names a flag",
            "api_token=***5678 is already masked",
            "tests/server/test_no_secrets.py::TestAudit::test_audit_query_and_export",
        ],
    )
    def test_unchanged(self, text: str) -> None:
        assert redact_text(text) == text


def _docs_corpus() -> list[tuple[str, int, str]]:
    """Every line of README.md and docs/*.md, minus the section that quotes secrets on purpose."""
    lines: list[tuple[str, int, str]] = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        in_examples = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith("## "):
                # observability.md's "Redaction" section shows what gets masked.
                in_examples = path.name == "observability.md" and line == "## Redaction"
            if not in_examples:
                lines.append((str(path.relative_to(REPO)), number, line))
    return lines


class TestDocsCorpus:
    """The redactor changes nothing in the documentation: prose is not a secret."""

    def test_docs_unchanged(self) -> None:
        corpus = _docs_corpus()
        assert len(corpus) > 1000
        changed = [
            f"{path}:{n}: {line!r} -> {redact_text(line)!r}"
            for path, n, line in corpus
            if redact_text(line) != line
        ]
        assert changed == []

    def test_docs_as_one_text(self) -> None:
        text = "\n".join(line for _, _, line in _docs_corpus())
        assert redact_text(text) == text


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
secrets = st.builds(
    lambda head, digit, tail: head + digit + tail,
    st.text(_ALNUM, min_size=6, max_size=20),
    st.sampled_from("0123456789"),
    st.text(_ALNUM + "-_", min_size=1, max_size=20),
)
names = st.builds(
    lambda pre, name, post: pre + name + post,
    st.sampled_from(["", "db_", "app-", "X-", "client_", "access_"]),
    st.sampled_from(
        ["password", "passwd", "token", "secret", "api_key", "apikey", "Api-Key", "PASSWORD"]
    ),
    st.sampled_from(["", "_value", "s", "-1"]),
)
FORMS = (
    "{name}={secret}",
    "{name}: {secret}",
    '{name}="{secret}"',
    "{name}='{secret}'",
    '"{name}": "{secret}"',
    "{name} = {secret}",
    "https://user:{secret}@db.example.com:5432/app",
    "postgresql://app:{secret}@localhost/x",
    "Authorization: Bearer {secret}",
    "Authorization: Basic {secret}",
    "Bearer {secret}",
    "basic {secret}",
    "https://h.example/cb?a=1&{name}={secret}#x",
)
_WORDS = sorted(
    {
        w
        for _, _, line in _docs_corpus()
        for w in re.findall(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)?", line)
        if len(w) < 24
    }
    | {"token", "secret", "password", "basic", "Basic", "Bearer", "bearer", "authentication"}
    | {"authorization", "Authorization", "credentials", "key", "api", "OpenFeature"}
)
prose = st.lists(
    st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", ", ", ". ", ": ", " - ", "; "])),
    min_size=1,
    max_size=30,
).map(lambda pairs: "".join(w + sep for w, sep in pairs).strip())


class TestProperties:
    """Both ways at once: no generated secret survives, no generated prose is touched."""

    @settings(max_examples=300, deadline=None)
    @given(
        form=st.sampled_from(FORMS),
        name=names,
        secret=secrets,
        before=prose,
        after=prose,
    )
    def test_no_secret_survives(
        self, form: str, name: str, secret: str, before: str, after: str
    ) -> None:
        text = f"{before} {form.format(name=name, secret=secret)} {after}"
        redacted = redact_text(text)
        assert secret not in redacted
        assert redacted.startswith(before)
        assert secret not in str(redact_secrets({"message": text, name: secret}))

    @settings(max_examples=300, deadline=None)
    @given(text=prose)
    def test_prose_unchanged(self, text: str) -> None:
        assert redact_text(text) == text
        assert redact_secrets({"description": text}) == {"description": text}
