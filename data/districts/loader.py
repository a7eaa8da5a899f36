"""Loads Rosario's barrios and districts into PostGIS, following manifest.toml.

Barrios come from the official layer; districts are dissolved from barrios through the barrio-to-district
table and flagged approximate, unless an official district layer is given. Population is the 2022 census
city total spread over barrios by area. The whole load is one transaction and reloading changes nothing
that has not changed.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
from shapely import MultiPolygon, make_valid
from shapely.geometry.base import BaseGeometry

from data.districts.basemap import load_bus_routes

MANIFEST = Path(__file__).with_name("manifest.toml")
METRIC_CRS = "EPSG:22185"  # POSGAR 94 / Argentina 5, the municipality's own CRS: areas in m².


class SourceError(ValueError):
    """A source file is missing, changed since it was reviewed, or does not hold what the manifest says."""


def manifest() -> dict:
    return tomllib.loads(MANIFEST.read_text())


def source_path(data_dir: Path, entry: dict, verify: bool = True) -> Path:
    path = Path(data_dir) / entry["file"]
    if not path.exists():
        raise SourceError(f"{path} not found: set MONITOR_DATA_DIR to the folder holding Rosario's layers")
    if verify:
        digest = sha256(path)
        if digest != entry["sha256"]:
            raise SourceError(
                f"{path} changed since its mapping was reviewed (sha256 {digest}, manifest says "
                f"{entry['sha256']}): check data/districts/manifest.toml, then update the checksum"
            )
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    geom = geom if geom.is_valid else make_valid(geom)
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    polygons = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for g in polygons for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])]
    return MultiPolygon(parts)


@dataclass
class Geography:
    barrios: gpd.GeoDataFrame  # mslink, name, district_code, district_method, area_m2, population, geom
    districts: gpd.GeoDataFrame  # id, code, name, is_approximate, boundary_method, population, area_m2, geom
    population_method: str
    files: dict[str, Path]


def read_barrios(data_dir: Path, conf: dict, verify: bool) -> tuple[gpd.GeoDataFrame, Path]:
    entry = conf["barrios"]
    path = source_path(data_dir, entry, verify)
    raw = gpd.read_file(path)
    if raw.crs is None or not raw.crs.equals("EPSG:4326", ignore_axis_order=True):
        raise SourceError(f"{path}: expected {entry['crs']}, found {raw.crs}")
    fields = entry["fields"]
    barrios = gpd.GeoDataFrame(
        {"mslink": raw[fields["mslink"]].astype(int), "name": raw[fields["name"]].astype(str).str.strip()},
        geometry=raw.geometry.map(as_multipolygon), crs="EPSG:4326",
    )
    if len(barrios) != entry["expected_features"] or barrios.mslink.duplicated().any():
        raise SourceError(f"{path}: expected {entry['expected_features']} barrios with unique MSLINK")
    barrios["area_m2"] = barrios.to_crs(METRIC_CRS).area
    return barrios, path


def read_barrio_districts(data_dir: Path, conf: dict, verify: bool) -> tuple[pd.DataFrame, Path]:
    entry = conf["barrio_districts"]
    path = source_path(data_dir, entry, verify)
    fields = entry["fields"]
    table = pd.read_csv(path)
    table = table.rename(columns={fields["mslink"]: "mslink", fields["district"]: "district_code",
                                  fields["method"]: "district_method"})
    return table[["mslink", "district_code", "district_method"]], path


def city_population(data_dir: Path, conf: dict, verify: bool) -> tuple[float, Path]:
    entry = conf["population"]
    path = source_path(data_dir, entry, verify)
    table = pd.read_csv(path)
    row = table[(table.ambito == entry["scope"]) & (table.anio_censo == entry["year"])]
    if len(row) != 1:
        raise SourceError(f"{path}: no single row for {entry['scope']} {entry['year']}")
    return float(row.poblacion.iloc[0]), path


def build_geography(data_dir: Path, districts_file: Path | None = None, verify: bool = True) -> Geography:
    conf = manifest()
    barrios, barrios_path = read_barrios(data_dir, conf, verify)
    table, table_path = read_barrio_districts(data_dir, conf, verify)
    total, population_path = city_population(data_dir, conf, verify)
    method = conf["population"]["method"]
    barrios["population"] = total * barrios.area_m2 / barrios.area_m2.sum()
    files = {"barrios": barrios_path, "barrio_districts": table_path, "population": population_path}

    if districts_file is None:
        barrios = barrios.merge(table, on="mslink", how="left", validate="one_to_one")
        missing = barrios[barrios.district_code.isna()]
        if len(missing):
            raise SourceError(f"{table_path}: no district for MSLINK {sorted(missing.mslink.tolist())}")
        districts = dissolve_districts(barrios, conf["districts"])
    else:
        districts = read_official_districts(Path(districts_file), conf["districts"], barrios)
        barrios = assign_official_districts(barrios, districts)
        files["districts"] = Path(districts_file)
    return Geography(barrios=barrios, districts=districts, population_method=method, files=files)


def dissolve_districts(barrios: gpd.GeoDataFrame, conf: dict) -> gpd.GeoDataFrame:
    grouped = barrios.dissolve(by="district_code", aggfunc={"population": "sum", "area_m2": "sum"}).reset_index()
    return gpd.GeoDataFrame(
        {
            "id": grouped.district_code.map(conf["ids"]).astype(int),
            "code": grouped.district_code,
            "name": grouped.district_code.map(conf["names"]),
            "is_approximate": True,
            "boundary_method": conf["method"],
            "population": grouped.population,
            "area_m2": grouped.area_m2,
        },
        geometry=grouped.geometry.map(as_multipolygon), crs="EPSG:4326",
    )


def read_official_districts(path: Path, conf: dict, barrios: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """An official district layer with a `distrito` (or `code`) field naming CENTRO, NORTE, …"""
    raw = gpd.read_file(path).to_crs("EPSG:4326")
    field = next((f for f in ("distrito", "code", "DISTRITO", "nombre") if f in raw.columns), None)
    if field is None:
        raise SourceError(f"{path}: needs a 'distrito' field with the district codes")
    codes = raw[field].astype(str).str.upper().str.replace("DISTRITO ", "", regex=False).str.strip()
    unknown = sorted(set(codes) - set(conf["ids"]))
    if unknown:
        raise SourceError(f"{path}: unknown district codes {unknown}; expected {sorted(conf['ids'])}")
    districts = gpd.GeoDataFrame({"code": codes}, geometry=raw.geometry.map(as_multipolygon), crs="EPSG:4326")
    metric = districts.to_crs(METRIC_CRS)
    districts["area_m2"] = metric.area
    # Population by areal weighting of the barrios' populations (counts are extensive).
    pieces = gpd.overlay(barrios.to_crs(METRIC_CRS)[["mslink", "population", "area_m2", "geometry"]],
                         metric[["code", "geometry"]], how="intersection")
    pieces["share"] = pieces.population * pieces.area / pieces.area_m2
    districts["population"] = districts.code.map(pieces.groupby("code").share.sum()).fillna(0.0)
    districts["id"] = districts.code.map(conf["ids"]).astype(int)
    districts["name"] = districts.code.map(conf["names"])
    districts["is_approximate"] = False
    districts["boundary_method"] = f"official:{path.name}"
    return districts


def assign_official_districts(barrios: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each barrio to the official district holding the largest part of its area."""
    pieces = gpd.overlay(barrios.to_crs(METRIC_CRS)[["mslink", "geometry"]],
                         districts.to_crs(METRIC_CRS)[["code", "geometry"]], how="intersection")
    pieces["area"] = pieces.area
    best = pieces.sort_values("area").groupby("mslink").tail(1).set_index("mslink").code
    barrios = barrios.copy()
    barrios["district_code"] = barrios.mslink.map(best)
    barrios["district_method"] = "largest_overlap_official"
    return barrios


UPSERT_DISTRICT = """
INSERT INTO monitor.districts AS d (id, code, name, is_approximate, boundary_method, population,
                                    population_method, area_m2, geom)
VALUES (%(id)s, %(code)s, %(name)s, %(is_approximate)s, %(boundary_method)s, %(population)s,
        %(population_method)s, %(area_m2)s, ST_GeomFromWKB(%(wkb)s, 4326))
ON CONFLICT (code) DO UPDATE SET
    id = EXCLUDED.id, name = EXCLUDED.name, is_approximate = EXCLUDED.is_approximate,
    boundary_method = EXCLUDED.boundary_method, population = EXCLUDED.population,
    population_method = EXCLUDED.population_method, area_m2 = EXCLUDED.area_m2, geom = EXCLUDED.geom,
    updated_at = now()
WHERE (d.id, d.name, d.is_approximate, d.boundary_method, d.population, d.population_method, d.area_m2)
      IS DISTINCT FROM (EXCLUDED.id, EXCLUDED.name, EXCLUDED.is_approximate, EXCLUDED.boundary_method,
                        EXCLUDED.population, EXCLUDED.population_method, EXCLUDED.area_m2)
   OR NOT ST_Equals(d.geom, EXCLUDED.geom)
"""

UPSERT_BARRIO = """
INSERT INTO monitor.barrios AS b (mslink, name, district_code, district_method, area_m2, population,
                                  population_method, source, geom)
VALUES (%(mslink)s, %(name)s, %(district_code)s, %(district_method)s, %(area_m2)s, %(population)s,
        %(population_method)s, %(source)s, ST_GeomFromWKB(%(wkb)s, 4326))
ON CONFLICT (mslink) DO UPDATE SET
    name = EXCLUDED.name, district_code = EXCLUDED.district_code, district_method = EXCLUDED.district_method,
    area_m2 = EXCLUDED.area_m2, population = EXCLUDED.population,
    population_method = EXCLUDED.population_method, source = EXCLUDED.source, geom = EXCLUDED.geom,
    updated_at = now()
WHERE (b.name, b.district_code, b.district_method, b.area_m2, b.population, b.population_method, b.source)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.district_code, EXCLUDED.district_method, EXCLUDED.area_m2,
                        EXCLUDED.population, EXCLUDED.population_method, EXCLUDED.source)
   OR NOT ST_Equals(b.geom, EXCLUDED.geom)
"""

# Rows whose barrio changed with the new geometry are re-placed by their triggers.
REPLACE_MOVED = """
UPDATE monitor.instances SET venue = venue
WHERE venue IS NOT NULL AND barrio_id IS DISTINCT FROM monitor.barrio_at(venue);
UPDATE monitor.activities SET venue = venue
WHERE venue IS NOT NULL AND barrio_id IS DISTINCT FROM monitor.barrio_at(venue);
"""

RECORD_DATASET = """
INSERT INTO monitor.datasets (name, path, sha256, features, note) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256,
    features = EXCLUDED.features, note = EXCLUDED.note, loaded_at = now()
WHERE (monitor.datasets.sha256, monitor.datasets.path) IS DISTINCT FROM (EXCLUDED.sha256, EXCLUDED.path)
"""


def write_geography(conn: psycopg.Connection, geo: Geography) -> dict[str, int]:
    """Upsert districts then barrios in the caller's transaction; returns the number of rows changed."""
    conf = manifest()
    changed = {"districts": 0, "barrios": 0}
    with conn.cursor() as cur:
        for row in geo.districts.itertuples():
            cur.execute(UPSERT_DISTRICT, {
                "id": int(row.id), "code": row.code, "name": row.name, "is_approximate": bool(row.is_approximate),
                "boundary_method": row.boundary_method, "population": float(row.population),
                "population_method": geo.population_method, "area_m2": float(row.area_m2),
                "wkb": row.geometry.wkb,
            })
            changed["districts"] += cur.rowcount
        for row in geo.barrios.itertuples():
            cur.execute(UPSERT_BARRIO, {
                "mslink": int(row.mslink), "name": row.name, "district_code": row.district_code,
                "district_method": row.district_method, "area_m2": float(row.area_m2),
                "population": float(row.population), "population_method": geo.population_method,
                "source": conf["barrios"]["source"], "wkb": row.geometry.wkb,
            })
            changed["barrios"] += cur.rowcount
        cur.execute("DELETE FROM monitor.barrios WHERE NOT (mslink = ANY(%s))", (list(map(int, geo.barrios.mslink)),))
        cur.execute("DELETE FROM monitor.districts WHERE NOT (code = ANY(%s))", (list(geo.districts.code),))
        conn.execute(REPLACE_MOVED)
        for name, path in geo.files.items():
            count = len(geo.barrios) if name != "districts" else len(geo.districts)
            cur.execute(RECORD_DATASET, (name, str(path), sha256(path), count, conf.get(name, {}).get("source")))
    return changed


def load_geography(url: str, data_dir: Path, districts_file: Path | None = None, verify: bool = True) -> dict:
    geo = build_geography(Path(data_dir), districts_file, verify)
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('monitor.actor', 'loader:geography', true)")
        changed = write_geography(conn, geo)
        load_bus_routes(conn, Path(data_dir), verify)  # the local basemap's streets (data/districts/basemap.py)
        return changed
