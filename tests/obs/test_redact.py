"""Secret redaction: the seed's key rules and the value patterns beyond it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.obs import get_trace_fingerprint, mask, redact_secrets, redact_text
from phased.obs.redact import SENSITIVE_KEY_PARTS


class TestByKey:
    """Values under secret-looking keys become *** plus the last 4 characters."""

    def test_seed_example(self) -> None:
        data = {"username": "john", "api_token": "secret12345678"}
        assert redact_secrets(data) == {"username": "john", "api_token": "***5678"}

    def test_token_fingerprint(self) -> None:
        assert redact_secrets({"token": "token12345678"}) == {"token": "***5678"}

    @pytest.mark.parametrize("value", ["", "a", "abcd"])
    def test_short_values_are_fully_masked(self, value: str) -> None:
        assert redact_secrets({"password": value}) == {"password": "***"}

    @pytest.mark.parametrize(
        "key",
        ["TOKEN", "Secret", "PASSWORD", "x-api-key", "Authorization", "API_KEY", "db_password"],
    )
    def test_case_insensitive(self, key: str) -> None:
        assert redact_secrets({key: "abcdefgh"}) == {key: "***efgh"}

    def test_recursive_through_dicts_lists_tuples(self) -> None:
        data = {"outer": [{"secret": "s3cr3tvalue"}, ({"authorization": "Basic xyz12345"},)]}
        assert redact_secrets(data) == {
            "outer": [{"secret": "***alue"}, ({"authorization": "***2345"},)]
        }

    def test_everything_under_a_secret_key_is_masked(self) -> None:
        data = {"credentials_token": {"value": "hunter2hunter2", "alt": ["abcdefgh"]}}
        assert redact_secrets(data) == {
            "credentials_token": {"value": "***ter2", "alt": ["***efgh"]}
        }

    def test_non_string_values(self) -> None:
        assert redact_secrets({"pin_secret": 12345678, "token": None, "has_key": True}) == {
            "pin_secret": "***5678",
            "token": None,
            "has_key": True,
        }

    def test_phased_identifiers_are_not_secrets(self) -> None:
        data = {"flag_key": "checkout-v2", "group_key": "checkout|r1|error_rate"}
        assert redact_secrets(data) == data

    def test_input_is_not_modified(self) -> None:
        data = {"token": "abcdefgh", "list": [1, 2]}
        redact_secrets(data)
        assert data == {"token": "abcdefgh", "list": [1, 2]}


class TestByValue:
    """Credential-looking strings are masked even under innocent keys and inside text."""

    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("Authorization failed for Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGci"),
            ("pushed with ghp_" + "A1b2" * 9, "A1b2A1b2"),
            ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "11ABCDEFG"),
            ("aws AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EX"),
            ("openai sk-proj-abcdefghijklmnopqrstuvwx", "abcdefghijklmnop"),
            ("db postgresql://app:hunter2secret@db:5432/x", "hunter2sec"),
            (
                "hook https://discord.com/api/webhooks/123456/AbCdEfGhIjKlMnOpQrStUvWxYz0123",
                "AbCdEfGhIjKlMnOp",
            ),
            ("slack https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "T000/B000"),
            ("slack bot xoxb-1234567890-abcdefghij", "1234567890"),
        ],
    )
    def test_patterns(self, text: str, secret: str) -> None:
        redacted = redact_text(text)
        assert secret not in redacted
        assert "***" in redacted

    def test_url_keeps_user_and_host(self) -> None:
        assert redact_text("postgresql://app:hunter2secret@db/x") == "postgresql://app:***cret@db/x"

    def test_discord_url_keeps_webhook_id(self) -> None:
        url = "https://discord.com/api/webhooks/123456/AbCdEfGhIjKlMnOp"
        assert redact_text(url) == "https://discord.com/api/webhooks/123456/***MnOp"

    def test_under_innocent_key(self) -> None:
        assert redact_secrets({"note": "use Bearer abcd5678ijkl"}) == {"note": "use Bearer ***ijkl"}

    @pytest.mark.parametrize(
        "text",
        [
            "scikit sk-learn",
            "https://example.com/a:b@c",
            "no secrets here",
            "a-key-word",
            "Token expired for user alice",
            "the bearer of bad news",
        ],
    )
    def test_innocent_text_unchanged(self, text: str) -> None:
        assert redact_text(text) == text


class TestFingerprint:
    """get_trace_fingerprint gives the first 8 characters, or unknown."""

    def test_first_eight(self) -> None:
        assert get_trace_fingerprint("abc123de-456f-789g") == "abc123de"

    @pytest.mark.parametrize("value", ["", None])
    def test_unknown(self, value: str | None) -> None:
        assert get_trace_fingerprint(value) == "unknown"


secret_keys = st.builds(
    lambda pre, part, post, upper: (pre + part + post).upper() if upper else pre + part + post,
    st.text("abcxyz_-", max_size=5),
    st.sampled_from(SENSITIVE_KEY_PARTS),
    st.text("abcxyz_-", max_size=5),
    st.booleans(),
)
json_leaves = st.one_of(st.none(), st.integers(), st.text(max_size=20))
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
    ),
    max_leaves=10,
)


class TestNeverLeaks:
    """Whatever a secret key holds, however deep, its values never come out whole."""

    @given(key=secret_keys, secret=st.text(min_size=1, max_size=40), wrapper=json_values)
    def test_secret_never_in_output(self, key: str, secret: str, wrapper: object) -> None:
        payload = {"data": [wrapper, {key: {"nested": [secret]}}], key: secret}
        redacted = redact_secrets(payload)
        assert redacted[key] == mask(secret)
        assert redacted["data"][1][key] == {"nested": [mask(secret)]}
        if len(secret) > 4:
            assert secret not in repr(redacted[key])

    @given(value=json_values)
    def test_shape_preserved(self, value: object) -> None:
        redacted = redact_secrets(value)
        assert type(redacted) is type(value)


class TestPhasedTokensAndQueryStrings:
    """phased's own tokens and secret-named query parameters are masked inside any text."""

    def test_phased_token_in_prose(self) -> None:
        secret = "phd_pGNfghNlh5aHcjO9AlhhHR1GtvZUw9rVE1iOTlDUTvA"
        assert redact_text(f"login with {secret} failed") == "login with ***UTvA failed"

    @pytest.mark.parametrize(
        "url",
        [
            "GET /api/v1/flags?token=abcdefgh1234",
            "https://h/x?a=1&access_token=abcdefgh1234#top",
            "https://h/x?API_KEY=abcdefgh1234&b=2",
            "/cb;password=abcdefgh1234",
        ],
    )
    def test_secret_query_parameter(self, url: str) -> None:
        redacted = redact_text(url)
        assert "abcdefgh" not in redacted
        assert "***1234" in redacted

    def test_flag_keys_stay_readable(self) -> None:
        assert redact_text("/api/v1/flags?key=checkout&flag_key=new-ui") == (
            "/api/v1/flags?key=checkout&flag_key=new-ui"
        )
        assert redact_text("the phd_ prefix marks phased tokens") == (
            "the phd_ prefix marks phased tokens"
        )
