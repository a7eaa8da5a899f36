"""The tile zoom sweep of `tiles_sweep` on a scaled registry: the demo registry plus 200,000 synthetic instances
(flagged is_demo, source 'bench:synthetic'), spread over the barrios by area, in a database of their own
(`monitor_bench_tiles_scaled`) that is dropped at the end (BENCH_KEEP_DB=1 keeps it for another run).

`python -m bench tiles_scaled`. Loading takes a minute or two (every row goes through the placement and history
triggers, as an import would); the sweep then runs as in `tiles_sweep`.
"""

from __future__ import annotations

import os
import sys

import psycopg

from bench.tiles_sweep import TIPG, database, drop_database, load_demo_registry, run

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


def main() -> None:
    if not (TIPG / "uvicorn").exists():
        sys.exit("needs tipg in bench/.venv-tipg (see bench/tiles_sweep.py)")
    url = database(DB_NAME, fill)
    try:
        with psycopg.connect(url) as conn:
            published = conn.execute("SELECT count(*) FROM published.instances").fetchone()[0]
        run(url, f"scaled registry ({published:,} published instances)")
    finally:
        if os.environ.get("BENCH_KEEP_DB") != "1":
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
