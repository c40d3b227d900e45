"""The flag set every OFREP test evaluates, loaded into a running server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.conftest import RunningServer

FLAGS_FILE = Path(__file__).with_name("ofrep_flags.yaml")


def load_flags(server: RunningServer) -> str:
    """Apply ``ofrep_flags.yaml`` and return a new sdk token's secret bound to prod."""
    response = server.client().post(
        "/api/v1/flags-file/apply", json={"text": FLAGS_FILE.read_text("utf-8")}
    )
    assert response.status_code == 200, response.text
    server.wait_for_revision()
    return server.token("sdk", name="ofrep-sdk", environment="prod")
