"""Barrio populations from a census layer by small area: areal interpolation of an extensive count.

P_b = Σ_a P_a · area(a ∩ b) / area(a), measured in EPSG:22185. This is tobler's `area_interpolate` for extensive
variables; it is done here with geopandas' overlay because tobler would add rasterio, rasterstats, statsmodels
and libpysal to the install for this one sum.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from gis.index.grid import METRIC_CRS


class CensusError(ValueError):
    """The file cannot serve as a census layer (no such field, negative or missing counts, not polygons)."""


def read_census(path: Path, field: str, code_field: str | None = None) -> gpd.GeoDataFrame:
    layer = gpd.read_file(path)
    if field not in layer.columns:
        fields = ", ".join(c for c in layer.columns if c != "geometry")
        raise CensusError(f"{path.name}: no field {field!r}; fields: {fields}")
    if layer.crs is None:
        raise CensusError(f"{path.name}: the layer has no CRS")
    population = pd.to_numeric(layer[field], errors="coerce")
    bad = layer.index[population.isna() | (population < 0)].tolist()
    if bad:
        raise CensusError(f"{path.name}: {field} is missing, not a number or negative in features {bad[:10]}")
    if not layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise CensusError(f"{path.name}: every feature must be a polygon")
    # An invalid area (a self-intersecting "bow-tie" ring, say) has no well-defined area to interpolate from:
    # refuse the file rather than guess a repair. (make_valid below only mends what reprojection may introduce.)
    invalid = layer.index[~layer.geometry.is_valid].tolist()
    if invalid:
        reasons = "; ".join(f"feature {i}: {shapely.is_valid_reason(layer.geometry.loc[i])}" for i in invalid[:10])
        raise CensusError(f"{path.name}: invalid polygons (self-intersecting or otherwise) in features {invalid[:10]} "
                          f"({reasons}); repair them (e.g. QGIS 'Fix geometries') and load again")
    geometry = layer.geometry.to_crs("EPSG:4326").make_valid()
    return gpd.GeoDataFrame({"population": population.astype(float),
                             "code": layer[code_field].astype(str) if code_field else None},
                            geometry=geometry.map(_as_multipolygon), crs="EPSG:4326")


def _as_multipolygon(geom):
    polygons = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons)


def load_census(url: str, path: Path, field: str, code_field: str | None = None) -> dict:
    """Replace the census layer in one transaction; returns what was loaded."""
    layer = read_census(Path(path), field, code_field)
    source = f"{Path(path).name}:{field}"
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("DELETE FROM monitor.census_areas")
        with conn.cursor().copy("COPY monitor.census_areas (code, population, source, geom) FROM STDIN") as copy:
            for code, population, geom in zip(layer.code, layer.population, layer.geometry, strict=True):
                copy.write_row((code, population, source, "SRID=4326;" + geom.wkt))
    return {"areas": len(layer), "population": float(layer.population.sum()), "source": source}


def barrio_population(conn: psycopg.Connection, barrio_geoms_metric: np.ndarray) -> tuple[np.ndarray, str] | None:
    """(P_b, population method) from the loaded census layer, or None when none is loaded."""
    rows = conn.execute("SELECT population, ST_AsBinary(geom), source FROM monitor.census_areas ORDER BY id"
                        ).fetchall()
    if not rows:
        return None
    areas = gpd.GeoDataFrame({"population": [r[0] for r in rows]},
                             geometry=shapely.from_wkb([bytes(r[1]) for r in rows]), crs="EPSG:4326"
                             ).to_crs(METRIC_CRS)
    return interpolate(areas, barrio_geoms_metric), (
        f"census: areal interpolation (extensive) of {len(rows)} areas from {rows[0][2]}")


def interpolate(areas: gpd.GeoDataFrame, barrio_geoms_metric: np.ndarray) -> np.ndarray:
    """P_b = Σ_a P_a · area(a ∩ b) / area(a); `areas` in EPSG:22185 with a `population` column."""
    areas = areas.assign(area_id=np.arange(len(areas)), whole=areas.geometry.area)
    barrios = gpd.GeoDataFrame({"b": np.arange(len(barrio_geoms_metric))}, geometry=list(barrio_geoms_metric),
                               crs=METRIC_CRS)
    pieces = gpd.overlay(areas, barrios, how="intersection", keep_geom_type=True)
    share = pieces.population * pieces.geometry.area / pieces.whole
    return np.bincount(pieces.b, weights=share, minlength=len(barrio_geoms_metric))
