"""The tile zoom sweep of `tiles_sweep` on a scaled registry: the demo registry plus 200,000 synthetic instances
(flagged is_demo, source 'bench:synthetic'), spread over the barrios by area, in a database of their own
(`monitor_bench_tiles_scaled`) that is dropped at the end (BENCH_KEEP_DB=1 keeps it for another run).

`python -m bench tiles_scaled`. Loading takes a minute or two (every row goes through the placement and history
triggers, as an import would); the sweep then runs as in `tiles_sweep`. Before the sweep, every point is
accounted for: each instances tile of z10-z14 asked (all tiles of Rosario up to z12, the sweep's sample above)
must hold, as points and cluster counts, exactly the published points that fall in it, and none may exceed 500 KB;
the run stops otherwise. After it, the cold ratio to tipg per zoom and the largest instances tile are printed.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import httpx
import mapbox_vector_tile
import psycopg

from bench.features_items import start, stop
from bench.tiles_sweep import TIPG, database, drop_database, load_demo_registry, run, sample_tiles, servers

DB_NAME = "monitor_bench_tiles_scaled"
SYNTHETIC = int(os.environ.get("BENCH_SYNTHETIC_INSTANCES", "200000"))
SEED = 2026  # ST_GeneratePoints seed: the same points every time

SYNTHETIC_SQL = """
WITH city AS (SELECT sum(area_m2) AS area FROM monitor.barrios),
kinds AS (SELECT array_agg(code ORDER BY code) AS codes FROM monitor.instance_kinds),
themes AS (SELECT array_agg(code ORDER BY code) AS codes FROM monitor.themes),
points AS (
    SELECT row_number() OVER (ORDER BY b.mslink, p.path) AS n, p.geom
    FROM monitor.barrios b, city,
         ST_Dump(ST_GeneratePoints(b.geom, greatest(1, round(%(n)s * b.area_m2 / city.area))::integer, %(seed)s)) p
)
INSERT INTO monitor.instances (name, kind, promoter, modality, scope, themes, source, moderation, is_demo, venue,
                               frequency, status)
SELECT format('Instancia sintética %%s', points.n),
       kinds.codes[1 + points.n %% cardinality(kinds.codes)],
       (ARRAY['state', 'cso', 'mixed'])[1 + points.n %% 3],
       'in_person', 'city',
       ARRAY[themes.codes[1 + points.n %% cardinality(themes.codes)]],
       'bench:synthetic', 'approved', true, points.geom,
       (ARRAY['weekly', 'monthly', 'quarterly'])[1 + points.n %% 3],
       'active'
FROM points, kinds, themes
"""


def fill(url: str) -> None:
    load_demo_registry(url)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('monitor.actor', 'bench:tiles_scaled', true)")
        added = conn.execute(SYNTHETIC_SQL, {"n": SYNTHETIC, "seed": SEED}).rowcount
    print(f"{DB_NAME}: {added:,} synthetic instances added", flush=True)


CHECKED_ZOOMS = (10, 11, 12, 13, 14)
MAX_TILE_BYTES = 500 * 1024
# Published points per tile of zoom %(z)s: the tile grid on the stored Web Mercator copy, each point in one tile.
POINTS_PER_TILE = """
SELECT floor((ST_X(geom_3857) + 20037508.342789244) / 40075016.685578488 * 2 ^ %(z)s)::integer AS x,
       floor((20037508.342789244 - ST_Y(geom_3857)) / 40075016.685578488 * 2 ^ %(z)s)::integer AS y, count(*)
FROM published.instances WHERE geom_3857 IS NOT NULL GROUP BY 1, 2
"""


def verify_counts(url: str, tiles: dict[int, list[tuple[int, int]]]) -> dict[int, int]:
    """Every published point counted once: per tile, the points and cluster counts of our instances tile equal the
    published points in it (z10-z12: every tile of Rosario, so also all of them in total). Returns the largest
    instances tile (uncompressed bytes) per zoom; raises on a wrong count or a tile above 500 KB."""
    command, env, probe = servers(url)["monitor"]
    process = start(command, env, probe)
    largest: dict[int, int] = {}
    try:
        with psycopg.connect(url) as conn, httpx.Client(base_url=f"http://127.0.0.1:{urlsplit(probe).port}",
                                                         timeout=300, headers={"Accept-Encoding": "identity"}) as http:
            published = conn.execute("SELECT count(*) FROM published.instances "
                                     "WHERE geom_3857 IS NOT NULL").fetchone()[0]
            for z in CHECKED_ZOOMS:
                truth = {(x, y): n for x, y, n in conn.execute(POINTS_PER_TILE, {"z": z})}
                counted = 0
                for x, y in tiles[z]:
                    response = http.get(f"/tiles/instances/{z}/{x}/{y}.mvt")
                    if response.status_code not in (200, 204) or len(response.content) > MAX_TILE_BYTES:
                        raise SystemExit(f"tile {z}/{x}/{y}: status {response.status_code}, "
                                         f"{len(response.content):,} bytes")
                    largest[z] = max(largest.get(z, 0), len(response.content))
                    decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
                    features = decoded.get("instances", {"features": []})["features"]
                    points = sum(f["properties"].get("point_count", 1) for f in features)
                    if points != truth.get((x, y), 0):
                        raise SystemExit(f"tile {z}/{x}/{y} counts {points:,} points, {truth.get((x, y), 0):,} "
                                         "are published in it")
                    if any(f["id"] >= 2**53 for f in features):
                        raise SystemExit(f"tile {z}/{x}/{y}: a feature id is not exact as a JavaScript number")
                    counted += points
                if z <= 12 and counted != published:
                    raise SystemExit(f"z{z}: the tiles over Rosario count {counted:,} of {published:,} points")
                print(f"  z{z}: {len(tiles[z])} instances tiles, {counted:,} points counted, each tile exact; "
                      f"largest {largest[z]:,} bytes", flush=True)
    finally:
        stop(process)
    return largest


def print_cold_ratios(report: dict, largest: dict[int, int]) -> None:
    by_server = report["layers"]["instances"]
    print("\n| instances z | tiles | tipg cold/s | ours cold/s | cold × | largest instances tile |")
    print("|---|---|---|---|---|---|")
    for z, ours in by_server["monitor"].items():
        theirs = by_server["tipg"][z]["cold"]["tiles_per_s"]
        size = f"{largest[z] / 1024:,.0f} KB" if z in largest else ""
        print(f"| {z} | {ours['tiles']} | {theirs} | {ours['cold']['tiles_per_s']} | "
              f"{ours['cold']['tiles_per_s'] / theirs:.1f} | {size} |")
    with open("/proc/loadavg") as f:
        print(f"load average at the end: {f.read().strip()}")


def main() -> None:
    if not (TIPG / "uvicorn").exists():
        sys.exit("needs tipg in bench/.venv-tipg (see bench/tiles_sweep.py)")
    url = database(DB_NAME, fill)
    try:
        with psycopg.connect(url) as conn:
            published = conn.execute("SELECT count(*) FROM published.instances").fetchone()[0]
        print("every point counted, tile by tile:", flush=True)
        largest = verify_counts(url, sample_tiles(url))
        # One cold pass per server (BENCH_TILES_COLD_RUNS to change): tipg needs 0.2–1 s per instances tile here.
        report = run(url, f"scaled registry ({published:,} published instances)",
                     int(os.environ.get("BENCH_TILES_COLD_RUNS", "1")))
        print_cold_ratios(report, largest)
    finally:
        if os.environ.get("BENCH_KEEP_DB") != "1":
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
