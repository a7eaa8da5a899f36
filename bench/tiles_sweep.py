"""Vector tile zoom sweep over Rosario, z10–z16: this server against tipg, same database, same published views.

`python -m bench tiles_sweep` (demo registry: 316 published instances) — see also `tiles_scaled` (200,000 more).
Needs tipg in `bench/.venv-tipg` (`python3 -m venv bench/.venv-tipg && bench/.venv-tipg/bin/pip install tipg
uvicorn`). For each zoom, up to BENCH_TILES_PER_ZOOM tiles over Rosario's barrios are asked over 8 keep-alive
loopback connections by `bench/tiles_load.py`: once (cold: no server cache can answer; PostgreSQL's buffers are
warmed beforehand by an untimed pass, the same for both servers), then BENCH_TILES_WARM_PASSES more times (warm;
at least 400 requests per zoom). Cold is the median of BENCH_TILES_COLD_RUNS passes, each over every zoom from a
freshly started server: at z10–z12 a pass is 1–9 tiles, a few milliseconds, and one pass alone swung the ratio
by 2× from run to run (default 5; `tiles_scaled`: 1). Each server is one uvicorn worker started afresh per layer
and run. tipg gets the same properties as our tiles and the 4326 geometry column (its own way: transform per row,
filter on the 4326 index). Numbers are printed and written to bench/results/, never asserted. Every run is
bounded: a few thousand requests per server and layer.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import morecantile
import psycopg
from psycopg import sql

from bench.features_items import free_port, start, stop
from bench.tiles_load import load
from layers.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
TIPG = ROOT / "bench" / ".venv-tipg" / "bin"
RESULTS = ROOT / "bench" / "results"
DB_NAME = "monitor_bench_tiles"
_FIRST, _, _LAST = os.environ.get("BENCH_TILES_ZOOMS", "10-16").partition("-")
ZOOMS = range(int(_FIRST), int(_LAST or _FIRST) + 1)  # BENCH_TILES_ZOOMS=10-14 bounds a long run
PER_ZOOM = int(os.environ.get("BENCH_TILES_PER_ZOOM", "100"))
WARM_PASSES = int(os.environ.get("BENCH_TILES_WARM_PASSES", "4"))
MIN_WARM_REQUESTS = 400  # zooms with few tiles over Rosario repeat them more, so every warm figure has 400+ samples
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
COLD_RUNS = int(os.environ.get("BENCH_TILES_COLD_RUNS", "5"))
COMPARED = ("instances", "barrios")  # one point layer, one polygon layer
TMS = morecantile.tms.get("WebMercatorQuad")


def admin_url() -> str:
    from gis.cluster import PrivateCluster
    from gis.config import get_settings

    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    PrivateCluster(settings).start()
    return PrivateCluster(settings).admin_url()


def database(name: str, fill) -> str:
    """Database `name` on the bench server, created, migrated and filled by `fill(url)` if it does not exist."""
    from gis.cluster import ensure_database
    from gis.db import migrate

    admin = admin_url()
    url = urlunsplit(urlsplit(admin)._replace(path="/" + name))
    ensure_database(admin, name)
    migrate(url)
    with psycopg.connect(url) as conn:
        loaded = conn.execute("SELECT count(*) FROM published.instances").fetchone()[0]
        computed = conn.execute("SELECT count(*) FROM published.index_runs").fetchone()[0]
    if not loaded:
        started = time.monotonic()
        fill(url)
        print(f"{name}: loaded in {time.monotonic() - started:.0f} s", flush=True)
    # The analytics layers (hexagons, barrio and district index) are in the all-layers tiles too; BENCH_TILES_INDEX=0
    # skips computing them (the 200,000-instance registry takes long to compute).
    if not computed and os.environ.get("BENCH_TILES_INDEX", "1") == "1":
        from gis.index.compute import run as compute_index

        started = time.monotonic()
        try:
            compute_index(url, trigger="bench")
            print(f"{name}: index computed in {time.monotonic() - started:.0f} s", flush=True)
        except Exception as exc:  # the sweep still measures every other layer; say so in the report
            print(f"{name}: index not computed ({str(exc).splitlines()[0]}); analytics layers stay empty",
                  flush=True)
    if not loaded or not computed:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return url


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def load_demo_registry(url: str) -> None:
    from data.districts.loader import load_geography
    from data.districts.sites import load_sites
    from gis.config import get_settings
    from gis.demo import load_demo

    settings = get_settings()
    load_geography(url, settings.data_dir)
    load_sites(url, settings.data_dir)
    load_demo(url, settings.demo_seed, 300)


def city_tiles(url: str) -> dict[int, list[tuple[int, int]]]:
    """Every tile over Rosario's barrios, per zoom of the sweep."""
    with psycopg.connect(url) as conn:
        bounds = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                              "FROM (SELECT ST_Extent(geom) e FROM published.barrios) b").fetchone()
    return {z: [(t.x, t.y) for t in TMS.tiles(*bounds, zooms=[z])] for z in ZOOMS}


def sample_tiles(url: str, seed: int = 2026) -> dict[int, list[tuple[int, int]]]:
    rng = random.Random(seed)
    return {z: sorted(rng.sample(tiles, min(PER_ZOOM, len(tiles)))) for z, tiles in city_tiles(url).items()}


def warming_tiles(url: str, sampled: dict[int, list[tuple[int, int]]], count: int = 16) -> list[tuple[int, int, int]]:
    """Tiles of the highest zoom over Rosario that the sample leaves out, to warm a fresh process with."""
    z = max(sampled)
    left = sorted(set(city_tiles(url)[z]) - set(sampled[z]))
    return [(z, x, y) for x, y in left[len(left) // 2:len(left) // 2 + count]]


def servers(url: str) -> dict[str, tuple[list[str], dict, str]]:
    ours, theirs = free_port(), free_port()
    return {
        # As `monitor serve` runs it (api/serving.py: with --workers N, each worker on its own SO_REUSEPORT socket).
        "monitor": ([str(ROOT / ".venv" / "bin" / "python"), "-m", "api.serving", "bench.tiles_app:create_tile_app",
                     "--factory", "--port", str(ours), "--log-level", "warning"],
                    {"DATABASE_URL": url}, f"http://127.0.0.1:{ours}/tiles.json"),
        "tipg": ([str(TIPG / "uvicorn"), "tipg.main:app", "--port", str(theirs), "--log-level", "warning"],
                 {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["published"]'},
                 f"http://127.0.0.1:{theirs}/collections/published.instances"),
    }


def path_template(server: str, layer_id: str | None) -> str:
    if server == "monitor":
        return f"/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt" if layer_id else "/tiles/{z}/{x}/{y}.mvt"
    properties = ",".join(CATALOGUE[layer_id].tile_properties)
    return (f"/collections/published.{layer_id}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
            f"?geom-column=geom&properties={properties}")


def cold_pass(port: int, template: str, tiles: dict[int, list[tuple[int, int]]]) -> dict[int, dict]:
    """Every zoom's tiles once, in zoom order, from a server that has answered none of them."""
    return {z: load(port, [template.format(z=z, x=x, y=y) for x, y in addresses], passes=1, connections=CONNECTIONS)
            for z, addresses in tiles.items()}


def median_run(runs: list[dict]) -> dict:
    """The run of median throughput (its latencies with it), with every run's throughput kept beside it."""
    ordered = sorted(runs, key=lambda r: r["tiles_per_s"])
    return {**ordered[len(ordered) // 2], "runs_tiles_per_s": [r["tiles_per_s"] for r in runs]}


def sweep(command: list[str], env: dict, probe: str, template: str, tiles: dict[int, list[tuple[int, int]]],
          cold_runs: int, warming: list[tuple[int, int, int]]) -> dict[int, dict]:
    colds: dict[int, list[dict]] = {z: [] for z in tiles}
    for _ in range(cold_runs):
        process = start(command, env, probe)  # fresh process: empty tile cache
        try:
            port = int(urlsplit(probe).port)
            # Untimed: tiles outside the sample, so that the process has run its code paths and statements (tipg
            # has no start-up warm-up of its own) while every tile measured stays unasked.
            load(port, [template.format(z=z, x=x, y=y) for z, x, y in warming], passes=1, connections=CONNECTIONS)
            for z, result in cold_pass(port, template, tiles).items():
                colds[z].append(result)
        finally:
            stop(process)
    results = {}
    process = start(command, env, probe)
    try:
        port = int(urlsplit(probe).port)
        for z, addresses in tiles.items():
            paths = [template.format(z=z, x=x, y=y) for x, y in addresses]
            load(port, paths, passes=1, connections=CONNECTIONS)  # untimed: fills our cache, as cold did
            passes = max(WARM_PASSES, -(-MIN_WARM_REQUESTS // len(paths)))
            warm = load(port, paths, passes=passes, connections=CONNECTIONS)
            cold = median_run(colds[z])
            results[z] = {"tiles": len(paths), "cold": cold, "warm": warm}
            print(f"  z{z:<2} {len(paths):>4} tiles  cold {cold['tiles_per_s']:>7.1f}/s (median of "
                  f"{cold['runs_tiles_per_s']}) p50 {cold['p50_ms']:>7.2f} | warm {warm['tiles_per_s']:>7.1f}/s "
                  f"p50 {warm['p50_ms']:>7.2f} p99 {warm['p99_ms']:>8.2f}  statuses {cold['statuses']}", flush=True)
    finally:
        stop(process)
    return results


def largest_tiles(base: str, tiles: dict[int, list[tuple[int, int]]]) -> dict[int, int]:
    """The largest uncompressed all-layers tile per zoom (the 500 KB budget is on the decoded tile)."""
    largest = {}
    with httpx.Client(base_url=base, timeout=120, headers={"Accept-Encoding": "identity"}) as client:
        for z, addresses in tiles.items():
            largest[z] = max(len(client.get(f"/tiles/{z}/{x}/{y}.mvt").content) for x, y in addresses)
    return largest


def run(url: str, label: str, cold_runs: int = COLD_RUNS) -> dict:
    tiles = sample_tiles(url)
    warming = warming_tiles(url, tiles)
    print(f"{label}: {sum(map(len, tiles.values()))} tiles over z{min(ZOOMS)}–z{max(ZOOMS)}, "
          f"{CONNECTIONS} connections, {WARM_PASSES} warm passes, cold the median of {cold_runs}", flush=True)
    plan = servers(url)
    # Untimed: warm PostgreSQL's buffers and the OS cache through our all-layers tiles (shared by both servers).
    command, env, probe = plan["monitor"]
    process = start(command, env, probe)
    try:
        port = int(urlsplit(probe).port)
        load(port, [path_template("monitor", None).format(z=z, x=x, y=y) for z, a in tiles.items() for x, y in a])
        sizes = largest_tiles(f"http://127.0.0.1:{port}", tiles)
    finally:
        stop(process)
    report = {"label": label, "connections": CONNECTIONS, "warm_passes": WARM_PASSES, "cold_runs": cold_runs,
              "largest_all_layers_tile_bytes": sizes, "layers": {}}
    for layer_id in COMPARED:
        report["layers"][layer_id] = {}
        for name, (command, env, probe) in plan.items():
            print(f"{name} · {layer_id}", flush=True)
            report["layers"][layer_id][name] = sweep(command, env, probe, path_template(name, layer_id), tiles,
                                                     cold_runs, warming)
    command, env, probe = plan["monitor"]
    print("monitor · all layers in one tile", flush=True)
    report["layers"]["all"] = {"monitor": sweep(command, env, probe, path_template("monitor", None), tiles, cold_runs,
                                                warming)}
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"tiles-{label.split()[0]}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"written {out.relative_to(ROOT)}")
    return report


def print_table(report: dict) -> None:
    print(f"\n### {report['label']}\n")
    print("| layer | z | tiles | tipg cold/s | ours cold/s | cold × | tipg warm/s | ours warm/s | warm × "
          "| tipg p50/p99 ms (warm) | ours p50/p99 ms (warm) | ours p50/p99 ms (cold) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for layer_id, by_server in report["layers"].items():
        ours = by_server["monitor"]
        theirs = by_server.get("tipg")
        for z, r in ours.items():
            t = theirs[z] if theirs else None

            def ratio(mode: str, t=t, r=r) -> str:
                return f"{r[mode]['tiles_per_s'] / t[mode]['tiles_per_s']:.1f}" if t else "–"

            print(f"| {layer_id} | {z} | {r['tiles']} | {t['cold']['tiles_per_s'] if t else '–'} | "
                  f"{r['cold']['tiles_per_s']} | {ratio('cold')} | {t['warm']['tiles_per_s'] if t else '–'} | "
                  f"{r['warm']['tiles_per_s']} | {ratio('warm')} | "
                  f"{t['warm']['p50_ms'] if t else '–'}/{t['warm']['p99_ms'] if t else '–'} | "
                  f"{r['warm']['p50_ms']}/{r['warm']['p99_ms']} | {r['cold']['p50_ms']}/{r['cold']['p99_ms']} |")
    sizes = report["largest_all_layers_tile_bytes"]
    print("\nlargest all-layers tile (uncompressed bytes) per zoom: "
          + ", ".join(f"z{z}: {size:,}" for z, size in sizes.items()))


def main() -> None:
    if not (TIPG / "uvicorn").exists():
        sys.exit("needs tipg in bench/.venv-tipg (see this module's docstring)")
    run(database(DB_NAME, load_demo_registry), "demo registry (316 published instances)")


if __name__ == "__main__":
    main()
