"""QGIS (python3-qgis, the desktop GIS most users have) loads the XYZ vector tiles and draws each instance at its
own place."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tile_helpers import TMS, to_tile_px

SCRIPT = Path(__file__).with_name("qgis_render.py")
SIZE = 512


@pytest.mark.client
def test_qgis_draws_the_xyz_vector_tiles(live_server, sql, artifacts_dir):
    # A zoom-14 tile over the centre: QGIS asks for the tiles it needs at its own scale.
    centre = TMS.tile(-60.665, -32.945, 14)  # west of the centre: many instances, no river
    z, x, y = centre.z, centre.x, centre.y
    box = TMS.xy_bounds(x, y, z)
    out = os.path.join(artifacts_dir, "qgis_vector_tiles.png")
    done = subprocess.run(["/usr/bin/python3", str(SCRIPT), live_server.url,
                           json.dumps([box.left, box.bottom, box.right, box.top]), str(SIZE), out],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["valid"] and report["provider"] == "xyz" and report["zmax"] == 16
    assert not report["errors"]
    assert report["blue"] > SIZE * SIZE // 2  # barrios cover most of an inland tile
    red = set(map(tuple, report["red"]))
    inside = sql("SELECT ST_X(geom), ST_Y(geom) FROM published.instances WHERE geom IS NOT NULL AND "
                 "geom_3857 && ST_TileEnvelope(%s, %s, %s)", (z, x, y))
    assert len(inside) >= 3
    for lon, lat in inside:
        # Each instance is drawn in red within a couple of pixels of where it is.
        px, py = (v * SIZE / 4096 for v in to_tile_px(lon, lat, z, x, y))
        assert any(abs(rx - px) <= 3 and abs(ry - py) <= 3 for rx, ry in red), (lon, lat)
