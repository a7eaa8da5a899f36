"""Cached vector tiles under `wrk`: this server against tipg, same database, one worker each, then two.

`python -m bench tiles_cached` (or `make bench BENCH=tiles_cached`). Needs `wrk` and tipg in `bench/.venv-tipg`
(`make bench` installs both). Uses the demo-registry database of `tiles_sweep` (`monitor_bench_tiles`, built once).
The tiles are the barrios and instances layers over Rosario, z10–z16 (every tile at z10–z12, a seeded sample of
BENCH_CACHED_PER_ZOOM above), asked with `Accept-Encoding: gzip`. Each server is started afresh, every path is
asked once untimed (our cache fills; tipg has no tile cache, so its numbers are what any of its tiles cost), then
`wrk -t1 -c16` cycles through the paths for BENCH_SECONDS. One wrk thread: on 2 cores the load generator must
leave the servers a core. Before timing, one tile of ours is asked twice to check that it comes from the cache
(`X-Tile-Cache: hit`). Numbers are printed and written to bench/results/tiles-cached.json, never asserted.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.features_items import cpu_seconds, start, stop
from bench.tiles_load import load
from bench.tiles_sweep import DB_NAME, TIPG, database, load_demo_registry, sample_tiles, servers
from layers.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PER_ZOOM = int(os.environ.get("BENCH_CACHED_PER_ZOOM", "30"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_WORKERS", "1,2").split(","))
LAYERS = ("barrios", "instances")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}

# wrk asks the paths in turn, each connection from its own offset (so 16 connections do not ask the same tile).
LUA = """
local paths = {%s}
local n = #paths
local i = 0
init = function(args) i = math.random(n) end
request = function()
  i = (i %% n) + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
"""


def tile_paths(server: str, url: str) -> list[str]:
    chosen = sample_tiles(url)
    rng = random.Random(14)
    paths = []
    for layer_id in LAYERS:
        properties = ",".join(CATALOGUE[layer_id].tile_properties)
        for z, addresses in chosen.items():
            picked = addresses if len(addresses) <= PER_ZOOM else sorted(rng.sample(addresses, PER_ZOOM))
            for x, y in picked:
                if server == "monitor":
                    paths.append(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt")
                else:
                    paths.append(f"/collections/published.{layer_id}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                                 f"?geom-column=geom&properties={properties}")
    return paths


def server_cpu(pid: int) -> float:
    """CPU seconds of a uvicorn process and its workers (children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(k) for k in children.read_text().split()] if children.exists() else []
    return cpu_seconds(pid) + sum(cpu_seconds(k) for k in kids)


def wrk(port: int, paths: list[str], pid: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % ", ".join(json.dumps(p) for p in paths))
    before_server, before_children = server_cpu(pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", script.name,
                              f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=SECONDS + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_seconds = server_cpu(pid) - before_server
    wrk_seconds = (after.ru_utime + after.ru_stime) - (before_children.ru_utime + before_children.ru_stime)

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return round(float(value) * UNITS[unit], 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": latency("50"),
            "p99_ms": latency("99"), "non_2xx": int(errors.group(1)) if errors else 0,
            "server_us_per_request": round(server_seconds / requests * 1e6, 1),
            "wrk_us_per_request": round(wrk_seconds / requests * 1e6, 1)}


def check_cached(port: int, path: str) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Accept-Encoding": "gzip"}) as client:
        client.get(path)
        state = client.get(path).headers.get("x-tile-cache")
    if state != "hit":
        raise RuntimeError(f"{path} was not served from the cache (X-Tile-Cache: {state})")


def measure(url: str, workers: int) -> dict:
    plan = servers(url)
    found = {}
    for name, (command, env, probe) in plan.items():
        paths = tile_paths(name, url)
        process = start([*command, "--workers", str(workers)], env, probe)
        try:
            port = int(urlsplit(probe).port)
            # Untimed pass (twice: with 2 workers each has its own cache) so the timed run asks warm tiles.
            load(port, paths, passes=2 * workers, connections=8)
            if name == "monitor":
                check_cached(port, paths[len(paths) // 2])
            found[name] = {"tiles": len(paths), **wrk(port, paths, process.pid)}
        finally:
            stop(process)
        print(f"  {workers} worker(s) · {name:<8} {found[name]['rps']:>9.1f} tiles/s  p50 {found[name]['p50_ms']} ms"
              f"  p99 {found[name]['p99_ms']} ms  non-2xx {found[name]['non_2xx']}  CPU µs/request: server "
              f"{found[name]['server_us_per_request']}, wrk {found[name]['wrk_us_per_request']}", flush=True)
    found["ratio"] = round(found["monitor"]["rps"] / found["tipg"]["rps"], 1)
    return found


def main() -> None:
    if shutil.which("wrk") is None or not (TIPG / "uvicorn").exists():
        sys.exit("needs wrk (apt-get install wrk) and tipg in bench/.venv-tipg (`make bench` installs both)")
    url = database(DB_NAME, load_demo_registry)
    load_average = Path("/proc/loadavg").read_text().split()[:3]
    print(f"cached tiles, wrk -t1 -c{CONNECTIONS} -d{SECONDS}s, gzip; load average {' '.join(load_average)}")
    report = {"connections": CONNECTIONS, "seconds": SECONDS, "load_average_before": load_average, "runs": {}}
    for workers in WORKERS:
        report["runs"][workers] = measure(url, workers)
    print("\n| workers | tiles | tipg tiles/s | ours tiles/s | × tipg | tipg p50/p99 ms | ours p50/p99 ms |")
    print("|---:|---:|---:|---:|---:|---|---|")
    for workers, run in report["runs"].items():
        t, o = run["tipg"], run["monitor"]
        print(f"| {workers} | {o['tiles']} | {t['rps']} | {o['rps']} | {run['ratio']} | {t['p50_ms']}/{t['p99_ms']} "
              f"| {o['p50_ms']}/{o['p99_ms']} |")
    if 1 in report["runs"] and 2 in report["runs"]:
        scaling = report["runs"][2]["monitor"]["rps"] / report["runs"][1]["monitor"]["rps"]
        report["two_workers_over_one"] = round(scaling, 2)
        one = report["runs"][1]["monitor"]
        # With every core busy, 2 workers can at best turn the whole machine into requests: the load generator's
        # CPU per request comes out of the same cores (PostgreSQL's version reads too, not counted here).
        cores = os.cpu_count() or 1
        bound = min(2.0, cores / ((one["server_us_per_request"] + one["wrk_us_per_request"]) * one["rps"] / 1e6))
        report["two_workers_bound_on_this_machine"] = round(bound, 2)
        print(f"\nours, 2 workers against 1: {scaling:.2f}× (at most {bound:.2f}× on {cores} cores shared with wrk:"
              f" {one['server_us_per_request']} µs server + {one['wrk_us_per_request']} µs wrk per request)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tiles-cached.json").write_text(json.dumps(report, indent=1))
    print("written bench/results/tiles-cached.json")


if __name__ == "__main__":
    main()
