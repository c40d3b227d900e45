"""Schemathesis against the real server's own ``/openapi.json``.

Every operation gets a bounded number of generated requests (valid ones and
deliberately broken ones) with an admin token, over TCP to a real uvicorn.
Each response must not be a 5xx, must have a status code the schema
documents, and must match the documented body schema.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

if TYPE_CHECKING:
    from server.conftest import RunningServer, ServerFactory

EXAMPLES_PER_OPERATION = 25
"""Per operation and generation mode: the whole run stays under a minute on two cores."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
# Not negative_data_rejection: unknown query parameters are ignored, as HTTP APIs do.

# Streams never end, so a generated request would hang until the timeout.
SKIPPED_OPERATIONS = {"sdk_stream"}


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

    run()


@pytest.mark.slow
class TestOpenApiFuzz:
    """The documented API survives generated input: no 5xx, only documented statuses and bodies."""

    def test_every_operation(self, start_server: ServerFactory) -> None:
        """Every operation answers generated requests as its schema says."""
        # Limits high enough that mutations reach the service instead of a 429.
        server = start_server(mutations_per_minute=1e9, mutation_burst=1_000_000)
        with warnings.catch_warnings():
            # schemathesis' own dependencies may warn on import-time APIs; not ours to fix.
            warnings.simplefilter("ignore", DeprecationWarning)
            schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        headers = {"Authorization": f"Bearer {server.admin_secret}"}
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.definition.raw.get("operationId") in SKIPPED_OPERATIONS:
                continue
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(operation, mode, headers)
                except Unsatisfiable:
                    # Nothing to break: an operation without parameters or body.
                    if mode is GenerationMode.POSITIVE:
                        raise
                except Exception as exc:  # collect every operation's failure, not just the first
                    failures.append(f"{operation.label} [{mode.value}]: {exc}")
        assert operations > 30, f"only {operations} operations found in /openapi.json"
        assert not failures, "\n\n".join(failures)


class TestFuzzFindings:
    """What the fuzzer found once stays fixed: malformed input is a 4xx, never a 500."""

    def test_unprintable_character_in_a_flags_file(self, server: RunningServer) -> None:
        response = server.client().post("/api/v1/flags-file/apply", json={"text": "\x97a: 1"})
        assert response.status_code in (400, 422)
        assert "unacceptable character" in response.json()["error"]["message"]

    def test_outcome_slot_beyond_64_bits(self, server: RunningServer) -> None:
        window = {
            "key": {
                "flag": "f",
                "environment": "dev",
                "arm": "candidate",
                "stage": "",
                "slot": 10**40,
            },
            "aggregate": {"requests": 0, "errors": 0},
        }
        response = server.client().post(
            "/api/v1/sdk/outcomes", json={"batch_id": "b-1", "windows": [window]}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "windows.0.key.slot"
