"""Helpers of the open-data tests (a module name unique across test folders): counts as the API and the database
see them, and counts as GDAL's own command-line tools (gdal-bin, not the GDAL bundled with pyogrio) read a file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from layers.catalogue import CATALOGUE

GDAL_OPEN = {"csv": ["-oo", "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO"]}


def api_count(http: httpx.Client, sql, layer_id: str, params: dict | None = None) -> int:
    """How many features the API counts: the items' numberMatched for a collection, or the published view's rows
    for a download-only layer (which has no items)."""
    if layer_id in CATALOGUE:
        response = http.get(f"/collections/{layer_id}/items", params={**(params or {}), "limit": 1})
        assert response.status_code == 200, response.text
        return response.json()["numberMatched"]
    assert not params
    return sql(f"SELECT count(*) FROM published.{layer_id}")[0][0]


def save(http: httpx.Client, url: str, path: Path, params: dict | None = None) -> httpx.Response:
    """GET `url` streamed into `path` (never held whole in the test's memory either)."""
    with http.stream("GET", url, params=params) as response, path.open("wb") as out:
        if response.status_code == 200:
            for chunk in response.iter_bytes():
                out.write(chunk)
        else:
            response.read()
    return response


def ogrinfo(path: Path, ext: str, layer: str | None = None) -> str:
    args = ["ogrinfo", "-ro", "-so", *GDAL_OPEN.get(ext, []), str(path)]
    args += [layer] if layer else ["-al"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def gdal_counts(path: Path, ext: str, layer: str | None = None) -> list[int]:
    """The feature count GDAL reads for each layer of the file (one for single-layer formats)."""
    return [int(n) for n in re.findall(r"^Feature Count: (\d+)$", ogrinfo(path, ext, layer), re.MULTILINE)]


def gdal_fields(path: Path, ext: str, layer: str | None = None) -> list[str]:
    """The field names GDAL reads (after `Geometry Column` and the extent lines)."""
    return re.findall(r"^(\w+): (?:String|Integer|Integer64|Real|Date|DateTime|Time)", ogrinfo(path, ext, layer),
                      re.MULTILINE)
