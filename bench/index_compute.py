"""Citizen Participation Index runs: full and incremental, H3 resolutions 8–11 and 100 to 100,000 instances.

`python -m bench index_compute`. Two databases of their own on the bench server (never the user's):
- `monitor_bench_index`: Rosario's geography, the real sites and the demo registry (seed 20211, 300 instances);
  each resolution is timed cold (grid built and stored: the first run at a resolution, or after barrios change),
  full (grid rebuilt in memory, stored grid unchanged: what `monitor compute` does), and incremental (one
  instance moved, stored grid reused, only changed cells written: what the API's listener does after a write).
- `monitor_bench_index_synth`: the geography and N synthetic instances (90 % in person at random points of
  random barrios, barrio scope; 8 % online with district scope; 2 % online with city scope; 1–3 random
  themes; a random half of the 8 standards), N from BENCH_INDEX_SIZES (default 100,1000,10000,100000), at
  BENCH_INDEX_SYNTH_RESOLUTIONS (default 9,10).
Each figure is the median of BENCH_INDEX_REPEATS runs (default 3). Numbers are printed and written to
bench/results/index_compute.json, never asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from gis.index.compute import run
from gis.index.parameters import load_parameters

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RESOLUTIONS = [int(r) for r in os.environ.get("BENCH_INDEX_RESOLUTIONS", "8,9,10,11").split(",")]
SIZES = [int(n) for n in os.environ.get("BENCH_INDEX_SIZES", "100,1000,10000,100000").split(",")]
SYNTH_RESOLUTIONS = [int(r) for r in os.environ.get("BENCH_INDEX_SYNTH_RESOLUTIONS", "9,10").split(",")]
REPEATS = int(os.environ.get("BENCH_INDEX_REPEATS", "3"))


def server_url(name: str) -> str:
    from gis.cluster import PrivateCluster, ensure_database
    from gis.config import get_settings

    settings = get_settings()
    if settings.database_url:
        admin = settings.database_url
    else:
        cluster = PrivateCluster(settings)
        cluster.start()
        admin = cluster.admin_url()
    ensure_database(admin, name)
    return urlunsplit(urlsplit(admin)._replace(path="/" + name))


def prepared(name: str, with_registry: bool) -> str:
    from data.districts.loader import load_geography
    from gis.config import get_settings
    from gis.db import migrate

    url = server_url(name)
    migrate(url)
    with psycopg.connect(url) as conn:
        barrios = conn.execute("SELECT count(*) FROM monitor.barrios").fetchone()[0]
        instances = conn.execute("SELECT count(*) FROM monitor.instances").fetchone()[0]
    data_dir = get_settings().data_dir
    if not barrios:
        load_geography(url, data_dir)
    if with_registry and not instances:
        from data.districts.sites import load_sites
        from gis.demo import load_demo

        load_sites(url, data_dir)
        load_demo(url, 20211, 300)
    return url


def forget_grid(url: str, resolution: int) -> None:
    with psycopg.connect(url) as conn:
        for table in ("index_cells", "h3_pieces", "h3_cells", "h3_grids"):
            conn.execute(sql.SQL("DELETE FROM {} WHERE resolution = %s").format(sql.Identifier("monitor", table)),
                         (resolution,))


def nudge_one_instance(url: str, step: int) -> int:
    """Move one in-person instance ~50 m east or back: a single-instance change for the incremental path."""
    with psycopg.connect(url) as conn:
        # Triggers off, as in fill_synthetic: the bench times the index, not the tiles' bookkeeping (whose summary
        # of synthetic instances, inserted without triggers, is not kept).
        conn.execute("SET session_replication_role = replica")
        instance = conn.execute(
            "SELECT id FROM monitor.instances WHERE modality = 'in_person' AND moderation = 'approved' "
            "AND deleted_at IS NULL AND status = 'active' ORDER BY id LIMIT 1").fetchone()[0]
        shift = 0.0005 if step % 2 == 0 else -0.0005
        conn.execute("UPDATE monitor.instances SET venue = ST_Translate(venue, %s, 0) WHERE id = %s",
                     (shift, instance))
    return instance


def timed(label: str, call) -> dict:
    records = []
    for repeat in range(REPEATS):
        started, cpu = time.perf_counter(), time.process_time()
        record = call(repeat)
        record["wall_ms"] = (time.perf_counter() - started) * 1000
        record["cpu_ms"] = (time.process_time() - cpu) * 1000  # this process only (not PostgreSQL's share)
        records.append(record)
    middle = sorted(records, key=lambda r: r["wall_ms"])[len(records) // 2]
    return {"label": label, "wall_ms": round(statistics.median(r["wall_ms"] for r in records), 1),
            "python_cpu_ms": round(statistics.median(r["cpu_ms"] for r in records), 1),
            "load_average": round(os.getloadavg()[0], 1),
            "stages_ms": middle["timings_ms"], "cells_written": middle["cells_written"],
            "cells": middle["input_counts"]["cells"], "instances": middle["input_counts"]["instances"],
            "distance_pairs": middle["summary"]["distance_pairs"], "offer_rows": middle["summary"]["offer_rows"],
            "path": middle["path"], "instances_read": middle.get("instances_read"),
            "offers_written": middle.get("offers_written"),
            "derived": middle["input_counts"].get("assessments_derived")}


def measure(url: str, resolution: int) -> list[dict]:
    params = load_parameters(h3_resolution=resolution)

    def cold(_):
        forget_grid(url, resolution)
        return run(url, params, trigger="bench", full=True)

    def full(_):
        return run(url, params, trigger="bench", full=True)

    def incremental(step):
        changed = nudge_one_instance(url, step)
        return run(url, params, trigger="bench", full=False, changed_instance_id=changed)

    return [timed(f"r{resolution} cold", cold), timed(f"r{resolution} full", full),
            timed(f"r{resolution} incremental", incremental)]


SYNTHETIC_SQL = """
WITH picks AS (
    SELECT n, (SELECT mslink FROM monitor.barrios ORDER BY random() + n * 0 LIMIT 1) AS barrio, random() AS kind_draw
    FROM generate_series(1, %(n)s) n
)
INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, online_url, scope, scope_barrio_id,
                               scope_district_code, barrio_id, district_code, source, moderation, is_demo)
SELECT 'Instancia sintética ' || p.n,
       (ARRAY['consejo_barrial', 'vecinal', 'roundtable', 'cso_initiative', 'thematic_council'])[1 + p.n %% 5],
       (ARRAY['state', 'cso', 'mixed'])[1 + p.n %% 3],
       (SELECT array_agg(DISTINCT code) FROM (SELECT code FROM monitor.themes ORDER BY random() + p.n * 0
                                             LIMIT 1 + p.n %% 3) t),
       CASE WHEN p.kind_draw < 0.9 THEN 'in_person' ELSE 'online' END,
       CASE WHEN p.kind_draw < 0.9  -- (a random point can come back empty for a sliver: then a point on the barrio)
            THEN COALESCE(ST_GeometryN(ST_GeneratePoints(b.geom, 1, p.n), 1), ST_PointOnSurface(b.geom)) END,
       CASE WHEN p.kind_draw >= 0.9 THEN 'https://participa.rosario.gob.ar/' || p.n END,
       CASE WHEN p.kind_draw < 0.9 THEN 'barrio' WHEN p.kind_draw < 0.98 THEN 'district' ELSE 'city' END,
       CASE WHEN p.kind_draw < 0.9 THEN b.mslink END,
       CASE WHEN p.kind_draw >= 0.9 AND p.kind_draw < 0.98 THEN b.district_code END,
       CASE WHEN p.kind_draw < 0.9 THEN b.mslink END, b.district_code,
       'bench', 'approved', true
FROM picks p JOIN monitor.barrios b ON b.mslink = p.barrio
"""


def fill_synthetic(url: str, n: int) -> None:
    """N synthetic instances; triggers off for the bulk insert (placement is set directly: venue inside barrio)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM monitor.index_offer_versions")
        conn.execute("DELETE FROM monitor.index_offer_runs")
        conn.execute("DELETE FROM monitor.instance_standards")
        conn.execute("DELETE FROM monitor.instances")
        conn.execute(SYNTHETIC_SQL, {"n": n})
        # Triggers are off, so the columns the assessment triggers settle (0014_evaluation.sql) are written here.
        conn.execute("""INSERT INTO monitor.instance_standards (instance_id, criterion, status, met, criterion_version,
                                                                is_demo)
                        SELECT i.id, c.code, CASE WHEN m THEN 'met' ELSE 'not_met' END, m, c.version, true
                        FROM monitor.instances i CROSS JOIN monitor.standard_criteria c,
                             LATERAL (SELECT random() < 0.5 + i.id * 0) AS r(m)""")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE monitor.instances")


def main() -> None:
    results = {"resolutions": [], "synthetic": []}
    url = prepared("monitor_bench_index", with_registry=True)
    print("demo registry, full city; median of", REPEATS, "runs (ms)", flush=True)
    for resolution in RESOLUTIONS:
        for row in measure(url, resolution):
            results["resolutions"].append(row)
            print(json.dumps(row), flush=True)

    synth = prepared("monitor_bench_index_synth", with_registry=False)
    for n in SIZES:
        fill_synthetic(synth, n)
        for resolution in SYNTH_RESOLUTIONS:
            run(synth, load_parameters(h3_resolution=resolution), trigger="bench")  # untimed: stores the grid
            for row in measure(synth, resolution)[1:]:  # full and incremental
                row["synthetic_instances"] = n
                results["synthetic"].append(row)
                print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "index_compute.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
