"""Barrio populations from a census layer (areal interpolation), loaded through `monitor load census`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely

MONITOR = str(Path(sys.executable).with_name("monitor"))
WEST, EAST = 600_000.0, 430_069.0


def city_halves(url: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Barrios in EPSG:22185 and two census areas: the city cut in a west and an east half."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT mslink, ST_AsBinary(geom) FROM monitor.barrios ORDER BY mslink").fetchall()
    barrios = gpd.GeoDataFrame({"mslink": [r[0] for r in rows]},
                               geometry=shapely.from_wkb([bytes(r[1]) for r in rows]), crs="EPSG:4326"
                               ).to_crs("EPSG:22185")
    city = shapely.union_all(barrios.geometry.values)
    xmin, ymin, xmax, ymax = city.bounds
    cut = (xmin + xmax) / 2
    halves = [city.intersection(shapely.box(xmin - 1, ymin - 1, cut, ymax + 1)),
              city.intersection(shapely.box(cut, ymin - 1, xmax + 1, ymax + 1))]
    census = gpd.GeoDataFrame({"radio": ["W", "E"], "poblacion": [WEST, EAST]}, geometry=halves, crs="EPSG:22185")
    return barrios, census


def test_census_layer_gives_barrio_populations_by_areal_interpolation(fresh_db, tmp_path):
    barrios, census = city_halves(fresh_db)
    path = tmp_path / "radios.gpkg"
    census.to_file(path, driver="GPKG")
    env = {**os.environ, "DATABASE_URL": fresh_db}

    refused = subprocess.run([MONITOR, "load", "census", str(path), "--field", "personas"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "poblacion" in refused.stderr  # names the fields it has
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM monitor.census_areas").fetchone()[0] == 0

    loaded = subprocess.run([MONITOR, "load", "census", str(path), "--field", "poblacion", "--code-field", "radio"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr

    # By hand: P_b = Σ_a P_a · area(a ∩ b) / area(a).
    expected = np.zeros(len(barrios))
    for (_, area), population in zip(census.iterrows(), (WEST, EAST), strict=True):
        expected += population * shapely.area(shapely.intersection(barrios.geometry.values, area.geometry)) \
            / area.geometry.area
    with psycopg.connect(fresh_db) as conn:
        method = conn.execute("SELECT population_method FROM published.index_runs ORDER BY id DESC LIMIT 1"
                              ).fetchone()[0]
        published = dict(conn.execute("SELECT barrio_id, population FROM published.barrio_index").fetchall())
        cells = conn.execute("SELECT sum(population) FROM published.hexagons").fetchone()[0]
    assert method.startswith("census: areal interpolation (extensive) of 2 areas from radios.gpkg:poblacion")
    got = np.array([published[m] for m in barrios.mslink])
    assert np.abs(got / expected - 1).max() < 1e-6
    assert abs(got.sum() / (WEST + EAST) - 1) < 1e-6 and abs(cells / (WEST + EAST) - 1) < 1e-6
