"""Items throughput and latency: this server's OGC API - Features against tipg, same database, same views.

`python -m bench features_items` (or `make bench BENCH=features_items`). Needs `wrk` (Debian package); tipg is
installed into `bench/.venv-tipg` on first use (tipg 1.x and uvicorn with uvloop and httptools, the same server
stack as ours). A database `monitor_bench_features` on the private cluster is built once (geography, sites and a
demo of 3,000 instances, so that a page of 1,000 activities exists) and reused. Each server runs as one uvicorn
worker on loopback; both are up throughout and runs alternate between them for every collection, page size and
pattern, so load from elsewhere on the machine hits both alike. Two patterns per page size:

- `same page`: every request asks the same page (a map, many readers of one list, a client that re-asks);
- `paging`: every request asks another page (offsets step through the collection, none repeats within a run):
  what a client walking the pages sees, and a page no server-side cache holds.

Numbers are printed, written to bench/results/features_items.json, never asserted.
BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_COLLECTIONS (`activities,instances`), BENCH_PAGES (`10,1000`) bound it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
TIPG = ROOT / "bench" / ".venv-tipg" / "bin"
RESULTS = ROOT / "bench" / "results"
DB_NAME = "monitor_bench_features"
DEMO_INSTANCES = 3000
PAGES = tuple(int(n) for n in os.environ.get("BENCH_PAGES", "10,1000").split(","))
COLLECTIONS = tuple(os.environ.get("BENCH_COLLECTIONS", "activities,instances").split(","))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PATTERNS = ("same page", "paging")
# wrk asks each page of the `paging` pattern by its own offset: each of wrk's threads walks its own half of
# [0, span) one feature at a time, so no page repeats within a run of fewer than span requests.
PAGING_LUA = """
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) span = tonumber(args[1]); counter = tid * math.floor(span / 2) end
function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&offset=" .. (counter % span))
end
"""


def ensure_tipg() -> None:
    """tipg in its own virtual environment (its pins differ from ours), with uvicorn's uvloop and httptools."""
    if (TIPG / "uvicorn").exists() and (TIPG / "python").exists():
        check = subprocess.run([str(TIPG / "python"), "-c", "import tipg, uvloop, httptools"], capture_output=True)
        if check.returncode == 0:
            return
    print("installing tipg into bench/.venv-tipg (once)", flush=True)
    subprocess.run(["python3", "-m", "venv", str(TIPG.parent)], check=True)
    subprocess.run([str(TIPG / "pip"), "install", "-q", "tipg>=1.6,<2", "uvicorn[standard]"], check=True)


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


def wrk(url: str, paging: tuple[Path, int] | None = None) -> dict:
    """One timed run; with `paging` (the PAGING_LUA file, the span of offsets), each request asks another page."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    if paging is not None:
        command += ["-s", str(paging[0]), url, "--", str(paging[1])]
    else:
        command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 60, check=True).stdout

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50_ms": latency("50"), "p99_ms": latency("99"),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0}


def check_page(url: str, size: int) -> int:
    """The page holds exactly `size` features; returns how many features the selection has."""
    body = httpx.get(url, timeout=60).json()
    returned = len(body["features"])
    if returned != size:
        raise RuntimeError(f"{url} returned {returned} features, expected {size}")
    return body["numberMatched"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time of one server: its process and the PostgreSQL backends it opened (by application_name). On a shared
    machine the time per request is steadier than throughput, which other work on the cores takes from."""

    def __init__(self, url: str, process: subprocess.Popen, application: str):
        self.url, self.process, self.application = url, process, application

    def _backends(self) -> list[int]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                                   (self.application,))]

    def snapshot(self) -> tuple[float, dict[int, float]]:
        return cpu_seconds(self.process.pid), {pid: cpu_seconds(pid) for pid in self._backends()}

    def since(self, before: tuple[float, dict[int, float]]) -> tuple[float, float]:
        """Server and database CPU seconds since `before` (backends opened meanwhile count whole)."""
        server, backends = self.snapshot()
        return server - before[0], sum(used - before[1].get(pid, 0.0) for pid, used in backends.items())


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install wrk)")
    ensure_tipg()
    url = bench_database()
    ours_port, tipg_port = free_port(), free_port()
    stack = ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]  # the same for both servers
    servers = {
        "monitor": (
            [str(ROOT / ".venv" / "bin" / "uvicorn"), "api.app:create_app", "--factory", "--port", str(ours_port),
             *stack],
            {"DATABASE_URL": f"{url}?application_name=bench-monitor"},
            f"http://127.0.0.1:{ours_port}/collections/{{c}}/items?limit={{n}}",
        ),
        "tipg": (
            [str(TIPG / "uvicorn"), "tipg.main:app", "--port", str(tipg_port), *stack],
            {"DATABASE_URL": f"{url}?application_name=bench-tipg", "TIPG_DB_SCHEMAS": '["published"]',
             "TIPG_MAX_FEATURES_PER_QUERY": "10000"},
            f"http://127.0.0.1:{tipg_port}/collections/published.{{c}}/items?limit={{n}}",
        ),
    }
    runs: list[dict] = []
    processes, meters = [], {}
    lua = Path(tempfile.mkdtemp()) / "paging.lua"
    lua.write_text(PAGING_LUA)
    try:
        for name, (command, env, template) in servers.items():
            processes.append(start(command, env, template.format(c=COLLECTIONS[0], n=1)))
            meters[name] = CpuMeter(url, processes[-1], f"bench-{name}")
        for collection in COLLECTIONS:
            for size in PAGES:
                for pattern in PATTERNS:
                    for name, (_, _, template) in servers.items():
                        target = template.format(c=collection, n=size)
                        matched = check_page(target, size)
                        load, before = load_average(), meters[name].snapshot()
                        result = wrk(target, (lua, matched - size + 1) if pattern == "paging" else None)
                        server, database = meters[name].since(before)
                        result["server_cpu_ms"] = round(1000 * server / max(result["requests"], 1), 3)
                        result["db_cpu_ms"] = round(1000 * database / max(result["requests"], 1), 3)
                        if pattern == "paging" and result["requests"] >= matched - size + 1:
                            print("  (more requests than pages: some pages were asked twice)", flush=True)
                        runs.append({"server": name, "collection": collection, "limit": size, "pattern": pattern,
                                     "load_before": load, "load_after": load_average(), **result})
                        print(f"{name:8} {collection:11} limit={size:<5} {pattern:9} load {load:4.1f} "
                              f"{json.dumps(result)}", flush=True)
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(lua.parent, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "features_items.json").write_text(json.dumps(
        {"seconds": SECONDS, "connections": CONNECTIONS, "runs": runs}, indent=1) + "\n")
    print(f"\nitems, {CONNECTIONS} connections, {SECONDS} s per run, one uvicorn worker each, loopback, "
          f"load average {min(r['load_before'] for r in runs):.1f}-{max(r['load_after'] for r in runs):.1f}")
    print(table(runs))


def total(run: dict) -> float:
    return run["server_cpu_ms"] + run["db_cpu_ms"]


def cpu(run: dict) -> str:
    return f"{total(run):.2f} ({run['server_cpu_ms']:.2f} + {run['db_cpu_ms']:.2f})"


def table(runs: list[dict]) -> str:
    """Markdown: one row per collection, page size and pattern, tipg and ours side by side, and the ratios of
    throughput and of CPU time per request."""
    lines = ["| collection | limit | pattern | tipg req/s | ours req/s | × | tipg p50 ms | ours p50 ms "
             "| tipg p99 ms | ours p99 ms | tipg CPU ms/req (server + db) | ours CPU ms/req (server + db) "
             "| CPU × | load |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    by = {(r["collection"], r["limit"], r["pattern"], r["server"]): r for r in runs}
    for collection, size, pattern in dict.fromkeys((r["collection"], r["limit"], r["pattern"]) for r in runs):
        theirs, ours = by.get((collection, size, pattern, "tipg")), by.get((collection, size, pattern, "monitor"))
        if not theirs or not ours:
            continue
        low, high = min(theirs["load_before"], ours["load_before"]), max(theirs["load_after"], ours["load_after"])
        load = f"{low:.1f}-{high:.1f}"
        lines.append(f"| {collection} | {size} | {pattern} | {theirs['rps']:.1f} | {ours['rps']:.1f} "
                     f"| {ours['rps'] / theirs['rps']:.1f} | {theirs['p50_ms']:.1f} | {ours['p50_ms']:.1f} "
                     f"| {theirs['p99_ms']:.1f} | {ours['p99_ms']:.1f} | {cpu(theirs)} | {cpu(ours)} "
                     f"| {total(theirs) / total(ours):.1f} | {load} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
