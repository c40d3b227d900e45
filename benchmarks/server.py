"""Server speed: the SDK flag endpoint against unleash-server, and propagation to 50 SDKs.

1. ``GET /api/v1/sdk/flags`` of phased and ``GET /api/client/features`` of
   unleash-server (npm, Node 20), both on the same PostgreSQL (each in its own
   database), both holding the same 100 gradual-rollout flags (25 %, sticky on
   the user), both asked with their own SDK/client token. Each is measured with
   ``wrk -t1 -c32 -d20s --latency`` from a second process, once without an ETag
   (200, the full payload) and once with the current ETag in ``If-None-Match``
   (304). Every mode is checked before it is timed (status code, 100 flags in
   the body), and wrk's non-2xx/3xx and socket-error counts are printed.
   Each server runs as one process (phased: ``phased serve``, one uvicorn
   worker; Unleash: one Node process), so the numbers compare like with like.
   Beside the SDK route, phased's OFREP endpoints on the same server and flags:
   ``POST /ofrep/v1/evaluate/flags/{key}`` (one flag for one context) and
   ``POST /ofrep/v1/evaluate/flags`` (all 100 flags for one context; once
   without and once with the answer's ETag), also with wrk (a Lua script sets
   the method and the JSON body).
2. Propagation: 50 ``phased.Client(url=...)`` instances in 10 worker processes,
   connected to the server's event stream; the kill switch of one flag is
   flipped through the HTTP API 20 times; for each change and client the time
   from just before the API call to the client's flag set showing it.

Run: ``.venv/bin/python benchmarks/server.py`` (``--results
benchmarks/results/server.md`` rewrites the results page; ``--duration 5`` for
a quick look; ``--skip-unleash``). Needs ``wrk`` (Debian: ``apt-get install -y
wrk``), PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and, for the
Unleash rows, Node >= 18 with npm (the script installs ``unleash-server@6``
into ``~/.cache/phased-bench/unleash`` on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

FLAGS = 100
PERCENT = 25
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
PHASED_DB = "phased_bench"
UNLEASH_DB = "unleash_bench"
UNLEASH_SPEC = "unleash-server@6"
UNLEASH_DIR = Path.home() / ".cache" / "phased-bench" / "unleash"
UNLEASH_ADMIN = "*:*.bench-admin-secret"
UNLEASH_CLIENT = "*:development.bench-client-secret"
GOAL = 3.0
ENV = "prod"

UNLEASH_START = """\
const unleash = require('unleash-server');
unleash.start({
  db: {host: '127.0.0.1', port: 5432, user: 'postgres', password: 'postgres',
       database: process.env.BENCH_DB, ssl: false},
  server: {port: Number(process.env.BENCH_PORT)},
  logLevel: 'error',
  authentication: {initApiTokens: [
    {environment: '*', project: '*', secret: process.env.BENCH_ADMIN, type: 'admin',
     tokenName: 'bench-admin'},
    {environment: 'development', project: '*', secret: process.env.BENCH_CLIENT,
     type: 'client', tokenName: 'bench-client'},
  ]},
}).then(() => console.log('UNLEASH READY'));
"""


# -- small helpers -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(
    url: str, headers: dict[str, str], timeout: float, proc: subprocess.Popen[Any]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def stop(proc: subprocess.Popen[Any] | None) -> None:
    """Stop a server this script started (by its own pid)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class Target:
    """One server endpoint as the benchmark asks it."""

    name: str
    url: str
    headers: dict[str, str]
    count_flags: Any
    proc: subprocess.Popen[Any] | None = None
    etag: str = ""
    payload_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# -- phased ----------------------------------------------------------------------------


def start_phased() -> Target:
    """A fresh store on PostgreSQL with 100 flags at 25 %, then ``phased serve`` on it."""
    from phased.service import flags as flag_service
    from phased.service import rollouts as rollout_service
    from phased.service.tokens import create_token
    from phased.store import open_store

    recreate_database(PHASED_DB)
    url = PG_URL.format(db=PHASED_DB)
    store = open_store(url, environments=("dev", "staging", ENV))
    try:
        for i in range(FLAGS):
            key = f"flag-{i:03d}"
            flag_service.create_flag(store, actor="bench", key=key)
            flag_service.set_enabled(store, actor="bench", key=key, environment=ENV, enabled=True)
            rollout_service.set_rollout(
                store, actor="bench", key=key, environment=ENV, percent=PERCENT
            )
        sdk = create_token(store, actor="bench", name="bench-sdk", role="sdk", environment=ENV)
        admin = create_token(store, actor="bench", name="bench-admin", role="admin")
    finally:
        store.close()
    port = free_port()
    phased_bin = Path(sys.executable).parent / "phased"
    env = {
        **os.environ,
        "PHASED_BOOTSTRAP": "false",
        "PHASED_LOG_LEVEL": "warn",
        "PHASED_ENV": ENV,
    }
    cmd = [str(phased_bin), "serve", "--port", str(port), "--db", url, "--no-engine"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {sdk.secret}"}
    target = Target(
        "phased",
        base + "/api/v1/sdk/flags",
        headers,
        lambda body: len(body["flagset"]["flags"]),
        proc,
    )
    target.extra = {"base": base, "sdk_token": sdk.secret, "admin_token": admin.secret}
    try:
        wait_http(target.url, headers, 60, proc)
    except RuntimeError:
        stop(proc)
        raise
    return target


# -- unleash ---------------------------------------------------------------------------


def unleash_unavailable() -> str | None:
    """Why the Unleash rows cannot run here (None when they can)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node/npm not found: install Node 20 (Debian: apt-get install -y nodejs npm)"
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    version = found.stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        return f"unleash-server 6 needs Node >= 18 (found {version})"
    if not (UNLEASH_DIR / "node_modules" / "unleash-server").exists():
        print(f"installing {UNLEASH_SPEC} into {UNLEASH_DIR} (first run only) ...", flush=True)
        UNLEASH_DIR.mkdir(parents=True, exist_ok=True)
        (UNLEASH_DIR / "package.json").write_text('{"name": "unleash-bench", "private": true}')
        done = subprocess.run(
            [npm, "install", UNLEASH_SPEC, "--no-audit", "--no-fund"],
            cwd=UNLEASH_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return f"npm install {UNLEASH_SPEC} failed: {done.stderr.strip()[-500:]}"
    return None


def start_unleash() -> Target:
    """unleash-server on its own database with the same 100 flags (flexibleRollout 25 %)."""
    recreate_database(UNLEASH_DB)
    port = free_port()
    script = UNLEASH_DIR / "start.js"
    script.write_text(UNLEASH_START)
    env = {
        **os.environ,
        "BENCH_DB": UNLEASH_DB,
        "BENCH_PORT": str(port),
        "BENCH_ADMIN": UNLEASH_ADMIN,
        "BENCH_CLIENT": UNLEASH_CLIENT,
        "NODE_ENV": "production",
    }
    proc = subprocess.Popen(
        ["node", str(script)],
        cwd=UNLEASH_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", {}, 120, proc)
        admin = httpx.Client(base_url=base, headers={"Authorization": UNLEASH_ADMIN}, timeout=30)
        features = "/api/admin/projects/default/features"
        for i in range(FLAGS):
            name = f"flag-{i:03d}"
            admin.post(features, json={"name": name}).raise_for_status()
            strategy = {
                "name": "flexibleRollout",
                "parameters": {"rollout": str(PERCENT), "stickiness": "default", "groupId": name},
            }
            path = f"{features}/{name}/environments/development"
            admin.post(f"{path}/strategies", json=strategy).raise_for_status()
            admin.post(f"{path}/on").raise_for_status()
        admin.close()
        version = json.loads(
            (UNLEASH_DIR / "node_modules" / "unleash-server" / "package.json").read_text()
        )["version"]
    except Exception:
        stop(proc)
        raise
    target = Target(
        f"unleash-server {version}",
        base + "/api/client/features",
        {"Authorization": UNLEASH_CLIENT},
        lambda body: len(body["features"]),
        proc,
    )
    # Unleash's client-features cache refreshes in the background: wait for all 100.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = httpx.get(target.url, headers=target.headers, timeout=5).json()
        if target.count_flags(body) == FLAGS:
            break
        time.sleep(0.5)
    return target


# -- measuring -------------------------------------------------------------------------


def prepare(target: Target, timeout: float = 60.0) -> None:
    """Check both modes answer as expected and remember the ETag.

    Unleash updates its revision (and so its ETag) in the background for a
    few seconds after the flags are created: wait until the ETag holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(target.url, headers=target.headers, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{target.name}: expected 200, got {response.status_code}")
        count = target.count_flags(response.json())
        if count != FLAGS:
            raise RuntimeError(f"{target.name}: expected {FLAGS} flags, got {count}")
        target.etag = response.headers.get("etag", "")
        target.payload_bytes = len(response.content)
        time.sleep(1.0)
        again = httpx.get(
            target.url, headers={**target.headers, "If-None-Match": target.etag}, timeout=10
        )
        if again.status_code == 304:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{target.name}: If-None-Match gave {again.status_code}, not 304")


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_status: int
    socket_errors: str


def run_wrk(
    url: str, headers: dict[str, str], duration: int, body: bytes | None = None
) -> WrkResult:
    args = ["wrk", "-t1", "-c32", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        import tempfile

        lua = (
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body.decode())}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(lua)
        script = f.name
        args += ["-s", script]
    try:
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return WrkResult(
        rps=rps,
        p50_ms=_percentile(out, "50%"),
        p99_ms=_percentile(out, "99%"),
        requests=total,
        bad_status=int(bad.group(1)) if bad else 0,
        socket_errors=sock.group(1).strip() if sock else "none",
    )


def _percentile(out: str, label: str) -> float:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(target: Target, duration: int) -> dict[str, WrkResult]:
    results = {}
    for mode, headers in (
        ("200", target.headers),
        ("304", {**target.headers, "If-None-Match": target.etag}),
    ):
        run_wrk(target.url, headers, 2)  # warm-up (JIT, caches, connection pools)
        results[mode] = run_wrk(target.url, headers, duration)
        r = results[mode]
        print(
            f"  {target.name:<22} {mode}: {r.rps:>10,.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:6.2f} ms  bad status {r.bad_status}  socket errors {r.socket_errors}",
            flush=True,
        )
    return results


def measure_ofrep(target: Target, duration: int) -> dict[str, tuple[str, int, WrkResult]]:
    """OFREP single and bulk evaluation on the phased server: {mode: (path, bytes, result)}."""
    base = target.extra["base"]
    body = json.dumps({"context": {"targetingKey": "user-42", "role": "developer"}}).encode()
    single = f"{base}/ofrep/v1/evaluate/flags/flag-000"
    bulk = f"{base}/ofrep/v1/evaluate/flags"
    first = httpx.post(single, content=body, headers=target.headers, timeout=10)
    if first.status_code != 200 or "value" not in first.json():
        raise RuntimeError(f"OFREP single: expected 200 with a value, got {first.text[:200]}")
    all_flags = httpx.post(bulk, content=body, headers=target.headers, timeout=10)
    if len(all_flags.json()["flags"]) != FLAGS:
        raise RuntimeError(f"OFREP bulk: expected {FLAGS} flags, got {all_flags.text[:200]}")
    etag = all_flags.headers["etag"]
    cached = httpx.post(
        bulk, content=body, headers={**target.headers, "If-None-Match": etag}, timeout=10
    )
    if cached.status_code != 304:
        raise RuntimeError(f"OFREP bulk with If-None-Match: expected 304, got {cached.status_code}")
    modes = {
        "single": (single, target.headers, len(first.content)),
        "bulk 200": (bulk, target.headers, len(all_flags.content)),
        "bulk 304": (bulk, {**target.headers, "If-None-Match": etag}, len(all_flags.content)),
    }
    results = {}
    for mode, (url, headers, size) in modes.items():
        run_wrk(url, headers, 2, body)  # warm-up
        r = run_wrk(url, headers, duration, body)
        results[mode] = (httpx.URL(url).path, size, r)
        print(
            f"  {'phased OFREP':<22} {mode}: {r.rps:>10,.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:6.2f} ms  bad status {r.bad_status}  socket errors {r.socket_errors}",
            flush=True,
        )
    return results


# -- propagation -----------------------------------------------------------------------

WORKER = r"""
import json, sys, threading, time
from phased.sdk.client import Client

url, token, n, flag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out_lock = threading.Lock()

def emit(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

clients = []
for i in range(n):
    c = Client(url=url, token=token, environment="prod", backup_path=False, wait_ready=10)
    state = {"enabled": c.flagset.flags[flag].state("prod").enabled}

    def seen(c=c, i=i, state=state):
        now = time.monotonic()
        enabled = c.flagset.flags[flag].state("prod").enabled
        if enabled != state["enabled"]:
            state["enabled"] = enabled
            emit({"client": i, "t": now, "enabled": enabled})

    c.on_update(seen)
    clients.append(c)
deadline = time.monotonic() + 30
while not all(c.sync.status.stream_connected for c in clients) and time.monotonic() < deadline:
    time.sleep(0.05)
emit({"ready": all(c.sync.status.stream_connected for c in clients)})
sys.stdin.read()  # until the coordinator closes our stdin
for c in clients:
    c.close()
"""


def propagation(phased: Target, clients: int, processes: int, changes: int) -> dict[str, Any]:
    base, token = phased.extra["base"], phased.extra["sdk_token"]
    flag = "flag-000"
    per = clients // processes
    workers = []
    seen: list[tuple[int, float, bool]] = []  # (worker*per+client, t, enabled)
    lock = threading.Lock()
    ready = threading.Semaphore(0)

    def reader(w: int, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            msg = json.loads(line)
            if "ready" in msg:
                if not msg["ready"]:
                    print(f"  worker {w}: not every stream connected", flush=True)
                ready.release()
                continue
            with lock:
                seen.append((w * per + msg["client"], msg["t"], msg["enabled"]))

    for w in range(processes):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, base, token, str(per), flag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=reader, args=(w, proc), daemon=True).start()
        workers.append(proc)
    for _ in workers:
        ready.acquire(timeout=60)
    admin = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {phased.extra['admin_token']}"}
    )
    latencies: list[float] = []
    missed = 0
    enabled = True
    try:
        for _ in range(changes):
            enabled = not enabled
            with lock:
                seen.clear()
            t0 = time.monotonic()
            admin.put(
                f"/api/v1/flags/{flag}/environments/{ENV}/enabled", json={"enabled": enabled}
            ).raise_for_status()
            deadline = t0 + 10
            while time.monotonic() < deadline:
                with lock:
                    if len({c for c, _, e in seen if e is enabled}) >= per * processes:
                        break
                time.sleep(0.01)
            with lock:
                firsts: dict[int, float] = {}
                for c, t, e in seen:
                    if e is enabled and c not in firsts:
                        firsts[c] = t
            missed += per * processes - len(firsts)
            latencies += [t - t0 for t in firsts.values()]
            time.sleep(0.3)
    finally:
        admin.close()
        for proc in workers:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    latencies.sort()
    return {
        "clients": per * processes,
        "processes": processes,
        "changes": changes,
        "samples": len(latencies),
        "missed": missed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "max_ms": 1000 * latencies[-1] if latencies else float("nan"),
    }


# -- report ----------------------------------------------------------------------------


def report(
    rows: dict[str, dict[str, WrkResult]],
    targets: list[Target],
    prop: dict[str, Any] | None,
    unleash_reason: str | None,
    duration: int,
    *,
    ofrep: dict[str, tuple[str, int, WrkResult]] | None = None,
) -> str:
    lines = [
        "# Server benchmark: the SDK flag endpoint and propagation",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, `benchmarks/server.py --duration {duration}`; "
        f"load average at the end {os.getloadavg()[0]:.1f} (the machine is shared: other "
        "work running at the same time lowers both servers' numbers).",
        "Both servers: one process, the same PostgreSQL 127.0.0.1:5432 (own database each), "
        f"{FLAGS} flags each with a {PERCENT} % gradual rollout; "
        f"`wrk -t1 -c32 -d{duration}s --latency` from a second process on the same machine.",
        "",
        "| server | endpoint | payload | mode | req/s | p50 | p99 | bad status / socket errors |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for target in targets:
        path = httpx.URL(target.url).path
        for mode, r in rows[target.name].items():
            lines.append(
                f"| {target.name} | `{path}` | {target.payload_bytes:,} B | {mode} | "
                f"{r.rps:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms | "
                f"{r.bad_status} / {r.socket_errors} |"
            )
    lines.append("")
    phased_rows = rows.get("phased", {})
    unleash = next((t for t in targets if t.name.startswith("unleash")), None)
    if unleash is not None:
        lines += [f"Ratio phased / {unleash.name} (goal ≥ {GOAL:g}×):", ""]
        for mode in ("200", "304"):
            ratio = phased_rows[mode].rps / rows[unleash.name][mode].rps
            verdict = "met" if ratio >= GOAL else "NOT met"
            lines.append(f"- {mode}: **{ratio:.2f}×** ({verdict})")
        lines += [
            "",
            f"The payloads differ in size ({targets[0].payload_bytes:,} B against "
            f"{unleash.payload_bytes:,} B for the same flags: Unleash sends each strategy's "
            "constraints, variants and metadata, phased the flags file of one environment), "
            "so part of the 200 ratio is fewer bytes; the 304 ratio is the cost of a request "
            "alone (token check, ETag comparison, empty answer).",
            "",
        ]
    else:
        lines += [f"Unleash rows not measured: {unleash_reason}", ""]
    if ofrep:
        sdk = rows["phased"]
        lines += [
            "## OFREP beside the SDK fetch route",
            "",
            "The same phased server and flags; each OFREP request carries the context "
            '`{"targetingKey": "user-42", "role": "developer"}` and is evaluated on the '
            "server (the SDK route only sends the compiled flag set; the SDK evaluates in the "
            "application's process). Same wrk settings (a Lua script sets POST and the body).",
            "",
            "| endpoint | answer | mode | req/s | p50 | p99 | bad status / socket errors |",
            "|---|---:|---|---:|---:|---:|---|",
        ]
        for mode, r in sdk.items():
            lines.append(
                f"| `GET /api/v1/sdk/flags` | {targets[0].payload_bytes:,} B | {mode} | "
                f"{r.rps:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms | "
                f"{r.bad_status} / {r.socket_errors} |"
            )
        for mode, (path, size, r) in ofrep.items():
            lines.append(
                f"| `POST {path}` | {size:,} B | {mode} | {r.rps:,.0f} | {r.p50_ms:.2f} ms | "
                f"{r.p99_ms:.2f} ms | {r.bad_status} / {r.socket_errors} |"
            )
        lines.append("")
    if prop is not None:
        lines += [
            "## Propagation",
            "",
            f"{prop['clients']} `phased.Client(url=...)` in {prop['processes']} processes, each "
            "following the server's event stream; the kill switch of one flag flipped "
            f"{prop['changes']} times through `PUT /api/v1/flags/.../enabled`; time from just "
            "before the API call to each client's flag set showing the change.",
            "",
            "| samples | missed | p50 | p99 | max | goal |",
            "|---:|---:|---:|---:|---:|---|",
            f"| {prop['samples']} | {prop['missed']} | {prop['p50_ms']:.0f} ms | "
            f"{prop['p99_ms']:.0f} ms | {prop['max_ms']:.0f} ms | p99 < 1,000 ms: "
            f"{'met' if prop['p99_ms'] < 1000 and not prop['missed'] else 'NOT met'} |",
            "",
            "For comparison, Unleash's SDKs poll every 15 s by default (not measured here): "
            "a change reaches a client after up to 15 s, 7.5 s on average.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="wrk seconds per mode (20)")
    parser.add_argument("--skip-unleash", action="store_true")
    parser.add_argument("--skip-propagation", action="store_true")
    parser.add_argument("--skip-ofrep", action="store_true")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--results", type=Path, help="write the results page here")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed; install it first: apt-get install -y wrk", file=sys.stderr)
        return 2
    targets: list[Target] = []
    rows: dict[str, dict[str, WrkResult]] = {}
    prop = None
    ofrep = None
    unleash_reason = "skipped (--skip-unleash)" if args.skip_unleash else None
    try:
        print("starting phased ...", flush=True)
        phased = start_phased()
        targets.append(phased)
        if not args.skip_unleash:
            unleash_reason = unleash_unavailable()
            if unleash_reason is None:
                print("starting unleash-server ...", flush=True)
                try:
                    targets.append(start_unleash())
                except Exception as exc:
                    unleash_reason = f"unleash-server did not start: {type(exc).__name__}: {exc}"
            if unleash_reason:
                print(f"Unleash rows skipped: {unleash_reason}", flush=True)
        for target in targets:
            prepare(target)
        print(f"wrk -t1 -c32 -d{args.duration}s:", flush=True)
        # One server at a time: the other is idle, not stopped, during a run.
        for target in targets:
            rows[target.name] = measure(target, args.duration)
        if not args.skip_ofrep:
            ofrep = measure_ofrep(phased, args.duration)
        for target in targets[1:]:
            stop(target.proc)
        if not args.skip_propagation:
            print(f"propagation to {args.clients} clients ...", flush=True)
            prop = propagation(phased, args.clients, args.processes, args.changes)
            print(
                f"  p50 {prop['p50_ms']:.0f} ms  p99 {prop['p99_ms']:.0f} ms  "
                f"max {prop['max_ms']:.0f} ms  missed {prop['missed']}",
                flush=True,
            )
    finally:
        for target in targets:
            stop(target.proc)
    text = report(rows, targets, prop, unleash_reason, args.duration, ofrep=ofrep)
    print()
    print(text)
    if args.results:
        args.results.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
