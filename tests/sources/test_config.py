"""sources.yaml: kinds, addresses, ${VAR} credentials, and what is shown of them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from phased.errors import ConfigurationError
from phased.sources.config import load_sources_config, parse_sources_config
from phased.sources.registry import SOURCE_KINDS, build_source


class TestSourcesConfig:
    """Sources are defined once; mistakes name the field and the fix."""

    def test_unknown_kind_lists_the_valid_ones(self) -> None:
        with pytest.raises(ConfigurationError) as err:
            parse_sources_config({"sources": {"cw": {"kind": "cloudwatch"}}})
        assert "unknown metric source kind 'cloudwatch'; valid kinds: prometheus, sdk, web" in str(
            err.value
        )
        assert err.value.field == "sources.cw.kind"

    def test_http_sources_need_an_address(self) -> None:
        with pytest.raises(ConfigurationError, match="needs an address"):
            parse_sources_config({"sources": {"prom": {"kind": "prometheus"}}})

    def test_address_must_be_http(self) -> None:
        with pytest.raises(ConfigurationError, match="must start with http"):
            parse_sources_config(
                {"sources": {"prom": {"kind": "prometheus", "address": "ftp://x"}}}
            )

    def test_sdk_is_reserved(self) -> None:
        with pytest.raises(ConfigurationError, match="built-in source"):
            parse_sources_config({"sources": {"sdk": {"kind": "sdk"}}})

    def test_credentials_from_the_environment_and_masked(self, tmp_path: Path) -> None:
        file = tmp_path / "sources.yaml"
        file.write_text(
            "sources:\n  prom:\n    kind: prometheus\n    address: http://127.0.0.1:9090/\n"
            "    headers: {Authorization: 'Bearer ${PROM_TOKEN}'}\n"
        )
        config = load_sources_config(file, environ={"PROM_TOKEN": "tok-abcdefghijkl"})
        prom = config.sources["prom"]
        assert prom.headers["Authorization"] == "Bearer tok-abcdefghijkl"
        assert prom.address == "http://127.0.0.1:9090"
        shown = prom.public()
        assert "tok-abcdefghijkl" not in repr(shown)
        assert shown["headers"] == {"Authorization": "***"}

    def test_missing_variable_is_named(self) -> None:
        with pytest.raises(ConfigurationError, match=r"\$\{PROM_TOKEN\}, which is not set"):
            parse_sources_config(
                {
                    "sources": {
                        "p": {
                            "kind": "web",
                            "address": "http://x",
                            "headers": {"A": "${PROM_TOKEN}"},
                        }
                    }
                },
                environ={},
            )

    def test_missing_file_is_no_sources(self, tmp_path: Path) -> None:
        assert load_sources_config(tmp_path / "none.yaml").names == frozenset()

    def test_every_kind_builds(self) -> None:
        config = parse_sources_config(
            {
                "sources": {
                    k: {"kind": k, "address": "http://127.0.0.1:1"} for k in ("prometheus", "web")
                }
            }
        )
        with httpx.Client() as http:
            for name, cfg in config.sources.items():
                assert build_source(name, cfg, http=http, store=None).kind == name
        assert set(SOURCE_KINDS) == {"prometheus", "web", "sdk"}
