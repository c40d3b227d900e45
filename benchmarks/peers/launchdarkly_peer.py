"""LaunchDarkly's server SDK with the file data source, events off and on.

``Config(update_processor_class=Files.new_data_source(paths=[...]))`` makes
the client read flags from a file instead of connecting; per the SDK's own
docstring it "may still make network connections to send analytics events,
unless you have disabled this in your configuration with send_events or
offline". There is no offline setting that still records events (with
``offline=True``, ``variation`` returns the default without evaluating). So:

* events off: ``send_events=False`` (a null event processor);
* events on: ``send_events=True`` with ``events_uri`` pointing at a sink on
  127.0.0.1 started here, which answers every POST with 202. The event
  pipeline runs for real — summaries, one index event per context not seen
  recently, flushes — and nothing leaves the machine. ``events_max_pending``
  is raised to 100,000 so the 10,000 distinct users per pass are recorded,
  not dropped (dropping is cheaper and would flatter the row). After each
  timed pass the queue is flushed and delivered outside the timer, so
  delivery does not land in another library's timing; the evaluation-time
  cost of recording stays in the row.

The flag: a rule ``role in [admin, pm]`` serving ``true``, then a fallthrough
rollout of 25,000/100,000 bucketed by ``key``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.peers.base import FLAG, PERCENT, STAFF_ROLES, Adapter, Peer, Person

FLAGS: dict[str, Any] = {
    "flags": {
        FLAG: {
            "key": FLAG,
            "version": 1,
            "on": True,
            "salt": FLAG,
            "variations": [False, True],
            "offVariation": 0,
            "targets": [],
            "contextTargets": [],
            "prerequisites": [],
            "rules": [
                {
                    "id": "staff",
                    "clauses": [
                        {
                            "contextKind": "user",
                            "attribute": "role",
                            "op": "in",
                            "values": list(STAFF_ROLES),
                            "negate": False,
                        }
                    ],
                    "variation": 1,
                }
            ],
            "fallthrough": {
                "rollout": {
                    "bucketBy": "key",
                    "variations": [
                        {"variation": 1, "weight": PERCENT * 1000},
                        {"variation": 0, "weight": (100 - PERCENT) * 1000},
                    ],
                }
            },
            "trackEvents": False,
        }
    }
}


class EventSink:
    """A loopback HTTP server that accepts LaunchDarkly event payloads and counts them."""

    def __init__(self) -> None:
        self.payloads = 0
        self.bytes = 0
        self._posted = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if self.path.endswith("/bulk"):
                    with sink._posted:
                        sink.payloads += 1
                        sink.bytes += len(body)
                        sink._posted.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ld-event-sink", daemon=True
        )
        self._thread.start()

    def wait_for_more_than(self, payloads: int, timeout: float) -> bool:
        """Block until more than ``payloads`` payloads arrived (False on timeout)."""
        with self._posted:
            return self._posted.wait_for(lambda: self.payloads > payloads, timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def build(workdir: Path) -> list[Adapter]:
    """Two rows: ``variation`` with events off, and with events on (loopback sink)."""
    import ldclient
    from ldclient.config import Config
    from ldclient.integrations import Files

    path = workdir / "launchdarkly-flags.json"
    path.write_text(json.dumps(FLAGS), encoding="utf-8")

    def prepare(people: Sequence[Person]) -> list[ldclient.Context]:
        return [ldclient.Context.builder(p.user).set("role", p.role).build() for p in people]

    def row(name: str, client: Any) -> Adapter:
        variation = client.variation

        def run(items: list[ldclient.Context]) -> int:
            n = 0
            for ctx in items:
                if variation(FLAG, ctx, False):
                    n += 1
            return n

        return Adapter(
            name=name,
            call=f'ld.variation("{FLAG}", ctx, False)',
            prepare=prepare,
            run=run,
            one=lambda ctx: bool(variation(FLAG, ctx, False)),
            close=client.close,
        )

    quiet = ldclient.LDClient(
        config=Config(
            "sdk-key-unused",
            update_processor_class=Files.new_data_source(paths=[str(path)]),
            send_events=False,
        )
    )
    sink = EventSink()
    loud: Any = ldclient.LDClient(
        config=Config(
            "sdk-key-unused",
            update_processor_class=Files.new_data_source(paths=[str(path)]),
            send_events=True,
            events_uri=sink.url,
            events_max_pending=100_000,
        )
    )
    off = row("launchdarkly (file, events off)", quiet)
    on = row("launchdarkly (file, events on)", loud)

    def settle() -> None:
        seen = sink.payloads
        loud.flush()
        sink.wait_for_more_than(seen, timeout=10)

    def close() -> None:
        loud.close()  # flushes what is left to the sink
        sink.close()

    on.settle = settle
    on.close = close
    on.notes = lambda: (
        f"{sink.payloads} event payloads ({sink.bytes / 1e6:.1f} MB) delivered to the loopback sink"
    )
    return [off, on]


PEER = Peer(name="launchdarkly", package="ldclient", build=build)
