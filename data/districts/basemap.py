"""The local basemap's street skeleton: Rosario's municipal bus routes, loaded with the geography (manifest.toml
`[bus_routes]`) into monitor.bus_routes. Idempotent: a reload changes only rows whose data changed, and rows no
longer in the file go. A data folder without the file loads no routes (the basemap then has no streets)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
from shapely import MultiLineString
from shapely.geometry.base import BaseGeometry

UPSERT_ROUTE = """
INSERT INTO monitor.bus_routes AS r (id, line, branch, direction, route_code, source, geom)
VALUES (%(id)s, %(line)s, %(branch)s, %(direction)s, %(route_code)s, %(source)s, ST_GeomFromWKB(%(wkb)s, 4326))
ON CONFLICT (id) DO UPDATE SET
    line = EXCLUDED.line, branch = EXCLUDED.branch, direction = EXCLUDED.direction,
    route_code = EXCLUDED.route_code, source = EXCLUDED.source, geom = EXCLUDED.geom, updated_at = now()
WHERE (r.line, r.branch, r.direction, r.route_code, r.source)
      IS DISTINCT FROM (EXCLUDED.line, EXCLUDED.branch, EXCLUDED.direction, EXCLUDED.route_code, EXCLUDED.source)
   OR NOT ST_Equals(r.geom, EXCLUDED.geom)
"""


def as_multilinestring(geom: BaseGeometry) -> MultiLineString:
    if geom.geom_type == "LineString":
        return MultiLineString([geom])
    if geom.geom_type == "MultiLineString":
        return geom
    raise ValueError(f"expected lines, found {geom.geom_type}")


def read_bus_routes(path: Path, entry: dict) -> gpd.GeoDataFrame:
    from data.districts.loader import SourceError

    raw = gpd.read_file(path)
    if raw.crs is None or not raw.crs.equals(entry["crs"], ignore_axis_order=True):
        raise SourceError(f"{path}: expected {entry['crs']}, found {raw.crs}")
    fields = entry["fields"]
    text = lambda name: raw[fields[name]].astype(str).str.strip()  # noqa: E731
    routes = gpd.GeoDataFrame(
        {"id": raw[fields["id"]].astype(int), "line": text("line"), "branch": text("branch"),
         "direction": text("direction"), "route_code": text("route_code")},
        geometry=raw.geometry.map(as_multilinestring), crs="EPSG:4326",
    )
    if len(routes) != entry["expected_features"] or routes.id.duplicated().any():
        raise SourceError(f"{path}: expected {entry['expected_features']} routes with unique {fields['id']}")
    return routes


def write_bus_routes(conn: psycopg.Connection, routes: gpd.GeoDataFrame, source: str) -> int:
    """Upsert the routes in the caller's transaction; returns the number of rows changed."""
    changed = 0
    with conn.cursor() as cur:
        for row in routes.itertuples():
            cur.execute(UPSERT_ROUTE, {"id": int(row.id), "line": row.line, "branch": row.branch or None,
                                       "direction": row.direction or None, "route_code": row.route_code or None,
                                       "source": source, "wkb": row.geometry.wkb})
            changed += cur.rowcount
        cur.execute("DELETE FROM monitor.bus_routes WHERE NOT (id = ANY(%s))", (list(map(int, routes.id)),))
        changed += cur.rowcount
    return changed


def load_bus_routes(conn: psycopg.Connection, data_dir: Path, verify: bool = True) -> int | None:
    """The routes of the data folder, if it has them (None when it does not); the dataset is recorded."""
    from data.districts.loader import RECORD_DATASET, manifest, sha256, source_path

    entry = manifest().get("bus_routes")
    if entry is None or not (Path(data_dir) / entry["file"]).exists():
        return None
    path = source_path(data_dir, entry, verify)
    routes = read_bus_routes(path, entry)
    changed = write_bus_routes(conn, routes, entry["source"])
    conn.execute(RECORD_DATASET, ("bus_routes", str(path), sha256(path), len(routes), entry["source"]))
    return changed
