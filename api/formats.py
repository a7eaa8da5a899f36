"""Rows and features as CSV: one writer for every collection and every index selection.

Geometries become a WKT column (what spreadsheets, QGIS' delimited-text provider and GDAL's CSV driver read);
lists are joined with ";" (the importer splits them back), objects are written as JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

import shapely.geometry

# A text cell a spreadsheet would run as a formula (=, +, -, @, and tab or carriage return before them) gets a
# leading apostrophe, as OWASP advises for CSV injection. Written here rather than with `defusedcsv` (the same
# rule) to keep the standard csv writer and no dependency for one prefix. Numbers are left as numbers.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value):
    if isinstance(value, list):
        return _neutral(";".join(map(str, value)))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str):
        return _neutral(value)
    return value


def rows_csv(rows: Iterable[dict], columns: list[str] | None = None) -> bytes:
    rows = list(rows)
    columns = columns or (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue().encode()


def csv_header(columns: list[str]) -> bytes:
    """The header line of a CSV written in parts (downloads stream it batch by batch)."""
    return rows_csv([], columns)


def csv_lines(rows: Iterable[dict], columns: list[str]) -> bytes:
    """Lines of a CSV written in parts, without the header: the same cells as `rows_csv`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue().encode()


def features_csv(features: list[dict], property_names: list[str]) -> bytes:
    """GeoJSON features → id, the properties in catalogue order, then the geometry as WKT (empty when null)."""
    rows = []
    for feature in features:
        geometry = feature.get("geometry")
        wkt = shapely.geometry.shape(geometry).wkt if geometry else ""
        rows.append({"id": feature.get("id"), **(feature.get("properties") or {}), "wkt": wkt})
    return rows_csv(rows, ["id", *property_names, "wkt"])
