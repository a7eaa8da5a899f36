"""Items throughput and latency: this server's OGC API - Features against tipg, same database, same views.

`python -m bench features_items` (or `make bench BENCH=features_items`). Needs `wrk` (Debian package) and tipg in
`bench/.venv-tipg` (`python3 -m venv bench/.venv-tipg && bench/.venv-tipg/bin/pip install tipg uvicorn`).
A database `monitor_bench_features` on the private cluster is built once (geography, sites and a demo of
3,000 instances, so that a page of 1,000 activities exists) and reused. Each server runs as one uvicorn worker
on loopback (both started, runs alternated); wrk runs a bounded number of seconds per page size.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
TIPG = ROOT / "bench" / ".venv-tipg" / "bin"
DB_NAME = "monitor_bench_features"
DEMO_INSTANCES = 3000
PAGES = (10, 100, 1000)
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
COLLECTION = "activities"  # the largest published view: one page of 1,000 features exists


def bench_database() -> str:
    from gis.cluster import PrivateCluster, ensure_database
    from gis.config import get_settings
    from gis.db import migrate

    settings = get_settings()
    admin = settings.database_url or PrivateCluster(settings).admin_url()
    if not settings.database_url:
        PrivateCluster(settings).start()
    url = urlunsplit(urlsplit(admin)._replace(path="/" + DB_NAME))
    ensure_database(admin, DB_NAME)
    migrate(url)
    with psycopg.connect(url) as conn:
        activities = conn.execute("SELECT count(*) FROM published.activities").fetchone()[0]
    if activities < max(PAGES):
        from data.districts.loader import load_geography
        from data.districts.sites import load_sites
        from gis.demo import load_demo

        print(f"loading {DB_NAME} (once): geography, sites, demo of {DEMO_INSTANCES} instances", flush=True)
        load_geography(url, settings.data_dir)
        load_sites(url, settings.data_dir)
        load_demo(url, settings.demo_seed, DEMO_INSTANCES)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return url


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict, probe: str) -> subprocess.Popen:
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(probe, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"{command} did not answer {probe}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url],
                         capture_output=True, text=True, timeout=SECONDS + 60, check=True).stdout

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50_ms": latency("50"), "p99_ms": latency("99"),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0}


def check_page(url: str, size: int) -> int:
    body = httpx.get(url, timeout=60).json()
    returned = len(body["features"])
    if returned != size:
        raise RuntimeError(f"{url} returned {returned} features, expected {size}")
    return returned


def main() -> None:
    if shutil.which("wrk") is None or not (TIPG / "uvicorn").exists():
        sys.exit("needs wrk (apt-get install wrk) and tipg in bench/.venv-tipg (see this module's docstring)")
    url = bench_database()
    ours_port, tipg_port = free_port(), free_port()
    servers = {
        "monitor": (
            [str(ROOT / ".venv" / "bin" / "uvicorn"), "api.app:create_app", "--factory", "--port", str(ours_port),
             "--log-level", "warning"],
            {"DATABASE_URL": url},
            f"http://127.0.0.1:{ours_port}/collections/{COLLECTION}/items?limit={{n}}",
        ),
        "tipg": (
            [str(TIPG / "uvicorn"), "tipg.main:app", "--port", str(tipg_port), "--log-level", "warning"],
            {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["published"]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"},
            f"http://127.0.0.1:{tipg_port}/collections/published.{COLLECTION}/items?limit={{n}}",
        ),
    }
    results: dict[str, dict[int, dict]] = {name: {} for name in servers}
    processes = []
    try:
        for command, env, template in servers.values():
            processes.append(start(command, env, template.format(n=1)))
        # Alternate the servers for each page size, so that load from elsewhere on the machine hits both alike.
        for size in PAGES:
            for name, (_, _, template) in servers.items():
                target = template.format(n=size)
                check_page(target, size)
                results[name][size] = wrk(target)
                print(f"{name:8} limit={size:<5} {json.dumps(results[name][size])}", flush=True)
    finally:
        for process in processes:
            stop(process)
    print(f"\n{COLLECTION} items, {CONNECTIONS} connections, {SECONDS} s per run, one uvicorn worker each, loopback")
    print(f"{'server':8} {'limit':>6} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>9}")
    for name, by_size in results.items():
        for size, r in by_size.items():
            print(f"{name:8} {size:>6} {r['p50_ms']:>9.2f} {r['p99_ms']:>9.2f} {r['rps']:>9.1f}")


if __name__ == "__main__":
    main()
