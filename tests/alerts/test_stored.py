"""The stored alerts config's secret handling: masked when shown, restored when sent back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phased.alerts.stored import mask_known, redact_document, restore_masked, shown
from phased.errors import ValidationError

SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/:._-", min_size=9, max_size=60)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)


def documents() -> st.SearchStrategy[dict[str, object]]:
    channel = st.fixed_dictionaries(
        {"kind": st.just("webhook"), "url": SECRETS},
        optional={"headers": st.dictionaries(NAMES, SECRETS, max_size=3)},
    )
    return st.fixed_dictionaries({"channels": st.dictionaries(NAMES, channel, max_size=4)})


def leaves(document: dict[str, object]) -> list[str]:
    out: list[str] = []
    for channel in document["channels"].values():  # type: ignore[attr-defined]
        out.append(channel["url"])
        out.extend(channel.get("headers", {}).values())
    return out


class TestRedactDocument:
    """No channel URL or header value survives redaction; a `${VAR}` reference does."""

    @given(documents())
    def test_no_secret_survives(self, document: dict[str, object]) -> None:
        redacted = redact_document(document)
        for secret in leaves(document):
            assert secret not in str(redacted)

    def test_shape(self) -> None:
        document = {
            "channels": {
                "ops": {
                    "kind": "discord",
                    "url": "${DISCORD_URL}",
                    "headers": {"X-Team": "abcdefgh"},
                }
            },
            "dedup_window_seconds": 60,
        }
        assert redact_document(document) == {
            "channels": {
                "ops": {
                    "kind": "discord",
                    "url": "${DISCORD_URL}",
                    "headers": {"X-Team": "***efgh"},
                }
            },
            "dedup_window_seconds": 60,
        }
        assert shown("abcd") == "***"


class TestRestoreMasked:
    """A shown copy sent back keeps the secrets; a forged mask is refused."""

    @given(documents())
    def test_round_trip(self, document: dict[str, object]) -> None:
        assert restore_masked(redact_document(document), document) == document

    def test_channel_named_like_a_secret_keeps_its_settings(self) -> None:
        """A channel called ``token`` is a name, not a secret: its kind stays readable."""
        document = {"channels": {"token": {"kind": "webhook", "url": "https://a.example/s3cr3t"}}}
        shown_copy = redact_document(document)
        assert shown_copy["channels"]["token"]["kind"] == "webhook"
        assert "s3cr3t" not in str(shown_copy)
        assert restore_masked(shown_copy, document) == document

    def test_forged_mask_is_refused(self) -> None:
        before = {"channels": {"ops": {"kind": "webhook", "url": "https://a.example/secret"}}}
        forged = {"channels": {"ops": {"kind": "webhook", "url": "***zzzz"}}}
        with pytest.raises(ValidationError) as caught:
            restore_masked(forged, before)
        assert caught.value.field == "channels.ops.url"

    def test_mask_of_another_channel_is_refused(self) -> None:
        url = "https://a.example/secret"
        before = {"channels": {"a": {"kind": "webhook", "url": url}}}
        moved = {"channels": {"b": {"kind": "webhook", "url": shown(url)}}}
        with pytest.raises(ValidationError, match="channel 'b'"):
            restore_masked(moved, before)


class TestMaskKnown:
    """Known secrets are masked inside any text, longest first."""

    def test_text(self) -> None:
        text = "hook: http://127.0.0.1:9/hooks/abc answered 500"
        assert mask_known(text, ["http://127.0.0.1:9/hooks/abc"]) == "hook: ***/abc answered 500"
        assert mask_known(None, ["x" * 9]) is None
