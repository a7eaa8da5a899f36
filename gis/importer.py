"""`monitor import FILE`: GeoJSON, CSV (lon/lat or WKT) and GeoPackage files of organizations, instances and
activities, loaded completely or not at all.

Every row is checked and written inside one transaction (each row in its own savepoint, so one refusal does not
hide the next); if any row was refused, the transaction is rolled back and every problem is reported with its
place in the file (CSV: `line N`, the file's line; GeoJSON/GeoPackage: `feature N`, counting from 1).
What a layer accepts (its model, checks, references by name, keys unique within a file) is its edit policy, given
by the caller from the layer catalogue (`layers.catalogue.EDIT_POLICIES`); rows are written by the same edit
engine as the feature API (gis/edits.py). This module reads files, places coordinates (CRS, swapped axes),
resolves references and catches duplicates within the file.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis import edits
from gis.db import connect
from gis.edits import EditPolicy
from gis.registry import RegistryError, in_rosario_bbox
from gis.tables import unique_columns

# Editable layers by id, in dependency order: a row may name a record written earlier in the same file.
Policies = Mapping[str, EditPolicy]
LON_COLUMNS, LAT_COLUMNS, WKT_COLUMNS = ("lon", "longitude", "lng"), ("lat", "latitude"), ("wkt", "geometry")
WGS84 = CRS.from_epsg(4326)


class ImportRejected(Exception):
    """Nothing was imported. `problems` are lines such as `line 7: venue is outside Rosario: …`."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Row:
    where: str  # "line 7" or "feature 3"
    values: dict[str, Any]
    geometry: BaseGeometry | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Table:
    layer: str
    rows: list[Row]
    columns: set[str] | None = None  # known up front for CSV and GeoPackage; GeoJSON properties vary per feature
    crs: CRS | None = None  # declared CRS; None = undeclared (assumed EPSG:4326)


def import_path(url: str, policies: Policies, path: str | Path, layer: str | None = None,
                actor: str = "cli:import") -> dict:
    """Import one file in one transaction; raises ImportRejected (and imports nothing) if any row is bad."""
    path = Path(path)
    tables = read_tables(policies, path, layer)
    problems = [p for t in tables for p in column_problems(policies[t.layer], t)]
    if problems:
        raise ImportRejected(problems)
    counts: dict[str, int] = {}
    order = list(policies)
    with connect(url, actor=actor) as conn:
        for table in sorted(tables, key=lambda t: order.index(t.layer)):
            counts[table.layer] = import_table(conn, policies[table.layer], table, source=f"import:{path.name}",
                                               problems=problems)
        if problems:
            raise ImportRejected(problems)  # leaving `connect` by an exception rolls the transaction back
    return {"file": path.name, "imported": counts}


# ---------------------------------------------------------------- reading files

def read_tables(policies: Policies, path: Path, layer: str | None) -> list[Table]:
    suffix = path.suffix.lower()
    if layer is not None and layer not in policies:
        raise ImportRejected([f"unknown layer {layer!r}; known layers: {', '.join(policies)}"])
    if suffix == ".gpkg":
        return read_geopackage(policies, path, layer)
    target = layer or layer_from_name(policies, path.stem)
    if suffix in (".geojson", ".json"):
        return [read_geojson(path, target)]
    if suffix == ".csv":
        return [read_csv(path, target)]
    raise ImportRejected([f"unsupported format {suffix!r}: use GeoJSON (.geojson), CSV (.csv) or GeoPackage (.gpkg)"])


def layer_from_name(policies: Policies, name: str) -> str:
    lowered = name.lower()
    for layer, policy in policies.items():
        if any(n in lowered for n in policy.import_names):
            return layer
    raise ImportRejected([f"cannot tell the layer from the file name {name!r}: name the file after one of "
                          f"{', '.join(policies)} or pass --layer"])


def read_geojson(path: Path, layer: str) -> Table:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRejected([f"not valid JSON: {exc}"]) from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise ImportRejected(["not a GeoJSON FeatureCollection or Feature"])
    features = data.get("features", []) if data["type"] == "FeatureCollection" else [data]
    rows = []
    for number, feature in enumerate(features, start=1):
        row = Row(f"feature {number}", dict((feature or {}).get("properties") or {}))
        raw = (feature or {}).get("geometry")
        if raw is not None:
            try:
                row.geometry = shape(raw)
            except Exception as exc:  # shapely raises several types for malformed GeoJSON geometries
                row.problems.append(f"geometry is invalid: {exc}")
        rows.append(row)
    return Table(layer, rows, crs=declared_geojson_crs(data))


def declared_geojson_crs(data: dict) -> CRS | None:
    """The pre-RFC 7946 `crs` member (QGIS and GDAL still write it for non-WGS84 files)."""
    name = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if not name:
        return None
    try:
        return CRS.from_user_input(name)
    except Exception:
        raise ImportRejected([f"crs {name!r} is not a coordinate reference system PROJ knows"]) from None


def read_csv(path: Path, layer: str) -> Table:
    try:
        return parse_csv(path, layer)
    except UnicodeDecodeError as exc:
        raise ImportRejected([f"not UTF-8 text ({exc.reason} at byte {exc.start}): save the CSV as UTF-8"]) from None


def parse_csv(path: Path, layer: str) -> Table:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        rows = []
        while True:
            first_line = reader.line_num + 1  # a quoted value may span lines: report where the record starts
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue
            row = Row(f"line {first_line}", {})
            if len(record) != len(header):
                row.problems.append(f"has {len(record)} values for {len(header)} columns")
            row.values = {h: v.strip() for h, v in zip(header, record, strict=False) if v.strip() != ""}
            row.geometry = csv_geometry(row)
            rows.append(row)
    geometry_columns = set(LON_COLUMNS + LAT_COLUMNS + WKT_COLUMNS)
    return Table(layer, rows, columns={h for h in header if h not in geometry_columns})


def csv_geometry(row: Row) -> BaseGeometry | None:
    """A point from lon/lat columns or a WKT column; the columns are removed from the row's values."""
    lon = next((row.values.pop(c) for c in LON_COLUMNS if c in row.values), None)
    lat = next((row.values.pop(c) for c in LAT_COLUMNS if c in row.values), None)
    wkt = next((row.values.pop(c) for c in WKT_COLUMNS if c in row.values), None)
    if wkt is not None:
        try:
            return shapely.from_wkt(wkt)
        except shapely.errors.ShapelyError as exc:
            row.problems.append(f"geometry is invalid: WKT {wkt!r} cannot be read ({exc})")
            return None
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        row.problems.append("lon and lat must be given together")
        return None
    try:
        return shapely.Point(float(lon), float(lat))
    except ValueError:
        row.problems.append(f"lon/lat ({lon!r}, {lat!r}) are not numbers")
        return None


def read_geopackage(policies: Policies, path: Path, layer: str | None) -> list[Table]:
    import pyogrio

    try:
        available = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL's DataSourceError and friends
        raise ImportRejected([f"cannot open the GeoPackage: {exc}"]) from None
    if layer is not None:
        chosen = {layer: available[0]} if len(available) == 1 else {layer: layer}
        if chosen[layer] not in available:
            raise ImportRejected([f"no layer {layer!r} in the GeoPackage; it has {', '.join(available)}"])
    else:
        chosen = {target: name for name in available for target, policy in policies.items()
                  if name.lower() in policy.import_names}
        if not chosen and len(available) == 1:
            chosen = {layer_from_name(policies, path.stem): available[0]}
        if not chosen:
            raise ImportRejected([f"the GeoPackage's layers ({', '.join(available)}) are not named "
                                  f"{', '.join(policies)}: pass --layer"])
    return [read_geopackage_layer(path, name, target) for target, name in chosen.items()]


def read_geopackage_layer(path: Path, name: str, layer: str) -> Table:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=name)
    geometries = frame.geometry if "geometry" in frame.columns else None
    columns = [c for c in frame.columns if c != "geometry"]
    prefix = "" if len(pyogrio.list_layers(path)) == 1 else f"layer {name} "
    rows = []
    for number, record in enumerate(frame[columns].itertuples(index=False), start=1):
        values = {c: plain(v) for c, v in zip(columns, record, strict=True)}
        row = Row(f"{prefix}feature {number}", {c: v for c, v in values.items() if v is not None})
        row.geometry = None if geometries is None else geometries.iloc[number - 1]
        rows.append(row)
    crs = getattr(frame, "crs", None)
    return Table(layer, rows, columns=set(columns), crs=CRS.from_user_input(crs) if crs is not None else None)


def plain(value: Any) -> Any:
    """pandas/numpy scalars as plain Python values; missing values (NaN, NaT, None) as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        return None if value != value else value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


# ---------------------------------------------------------------- checking and writing

def column_problems(policy: EditPolicy, table: Table) -> list[str]:
    """Unknown columns are reported once for the whole file rather than on every row."""
    if table.columns is None:
        return []
    allowed = allowed_columns(policy)
    unknown = sorted(table.columns - allowed)
    if not unknown:
        return []
    return [f"unknown column(s) {', '.join(map(repr, unknown))} for {table.layer}; "
            f"known columns: {', '.join(sorted(allowed))}"]


def allowed_columns(policy: EditPolicy) -> set[str]:
    # The location comes from the geometry (or lon/lat, WKT), never from a geometry property. A published name
    # (`contact`, `scope_district`: what the API's CSV calls the column) is accepted like its field's.
    return ((policy.fields - {policy.geometry_field}) | {r.column for r in policy.import_references}
            | set(policy.aliases))


def import_table(conn: psycopg.Connection, policy: EditPolicy, table: Table, source: str,
                 problems: list[str]) -> int:
    transformer = None
    if table.crs is not None and not table.crs.equals(WGS84, ignore_axis_order=True):
        transformer = Transformer.from_crs(table.crs, WGS84, always_xy=True)
    seen: dict[tuple, str] = {}
    imported = 0
    for row in table.rows:
        item = prepare(conn, policy, table.layer, row, transformer, source)
        if item is not None:
            keys = list(file_keys(policy, item))
            repeated = next((key for key in keys if key in seen), None)
            if repeated is not None:
                row.problems.append(f"duplicate of {seen[repeated]} (same {repeated[0]})")
            else:
                seen.update((key, row.where) for key in keys)
                try:
                    edits.create(conn, policy, item)
                    imported += 1
                except RegistryError as exc:
                    row.problems.append(exc.message)
        problems.extend(f"{row.where}: {p}" for p in row.problems)
    return imported


def prepare(conn: psycopg.Connection, policy: EditPolicy, layer: str, row: Row, transformer: Transformer | None,
            source: str):
    """The row as a validated input model, or None with the reasons added to `row.problems`."""
    values = dict(row.values)
    for published, model_field in policy.aliases.items():
        if published in values:
            values.setdefault(model_field, values.pop(published))
    if "source" in policy.fields:
        values.setdefault("source", source)
    for column in policy.list_fields:
        if isinstance(values.get(column), str):
            values[column] = split_list(values[column])
    venue = place(row, transformer, layer, policy.geometry_field)
    if venue is not None:
        values[policy.geometry_field] = venue
    misplaced = bool(row.problems)  # the geometry was refused already: "venue is required" would only repeat it
    resolve_references(conn, policy, values, row)
    try:
        item = edits.validate(policy, values)
    except RegistryError as exc:
        row.problems.extend(p for p in describe_validation(exc, policy)
                            if not (misplaced and p.startswith(str(policy.geometry_field))))
        return None
    return None if row.problems else item


def split_list(text: str) -> list[str]:
    """`a;b`, `a, b`, `a|b` or a JSON array (GeoPackage has no list type)."""
    text = text.strip()
    if text.startswith("["):
        try:
            return [str(v).strip() for v in json.loads(text)]
        except ValueError:
            pass
    for separator in (";", "|", ","):
        if separator in text:
            return [part.strip() for part in text.split(separator) if part.strip()]
    return [text] if text else []


def place(row: Row, transformer: Transformer | None, layer: str, geometry_field: str | None) -> dict | None:
    """The row's geometry as a GeoJSON point in EPSG:4326, or None; problems go to the row."""
    geom = row.geometry
    if geom is None:
        return None
    if geometry_field is None:
        row.problems.append(f"{layer} have no location: leave the geometry empty")
        return None
    if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        geom = geom.geoms[0]  # GIS tools often save single points as MultiPoint
    if geom.is_empty:
        row.problems.append("geometry is empty: give the venue's coordinates, or no geometry for online instances")
        return None
    if geom.geom_type != "Point":
        row.problems.append(f"geometry must be a Point (the venue), not {geom.geom_type}")
        return None
    x, y = geom.x, geom.y
    if not (math.isfinite(x) and math.isfinite(y)):
        row.problems.append("geometry is invalid: coordinates must be finite numbers")
        return None
    if transformer is not None:
        x, y = transformer.transform(x, y)
    if abs(x) > 180 or abs(y) > 90:
        row.problems.append(
            f"coordinates ({x:.10g}, {y:.10g}) look projected (metres), not longitude/latitude: declare the file's CRS "
            "(GeoJSON 'crs' member, GeoPackage SRS) or reproject it to EPSG:4326")
        return None
    if in_rosario_bbox(y, x) and not in_rosario_bbox(x, y):
        row.problems.append(f"longitude and latitude look swapped: ({x:g}, {y:g}) would be in Rosario as "
                            f"({y:g}, {x:g}); give longitude first")
        return None
    return {"type": "Point", "coordinates": [x, y]}


def resolve_references(conn: psycopg.Connection, policy: EditPolicy, values: dict, row: Row) -> None:
    """Replace columns naming a record (an organisation's name, an instance's external id…) by its id."""
    by_field: dict[str, list] = {}
    for reference in policy.import_references:
        by_field.setdefault(reference.field, []).append(reference)
    for model_field, references in by_field.items():
        given = [r for r in references if r.column in values]
        for extra in given[1:]:
            values.pop(extra.column)  # the first one given decides
        if not given:
            if model_field not in values and policy.model.model_fields[model_field].is_required():
                names = ", ".join(r.label or r.column for r in references)
                row.problems.append(f"{names} or {model_field} is required")
                values[model_field] = 0  # placeholder: a row with problems is not written
            continue
        reference = given[0]
        wanted = str(values.pop(reference.column))
        matches = sql.SQL(" OR ").join(sql.SQL("lower({}::text) = lower(%(v)s)").format(sql.Identifier(c))
                                       for c in reference.match)
        deleted = sql.SQL(" AND deleted_at IS NULL") if "deleted_at" in reference.table.columns else sql.SQL("")
        found = conn.execute(sql.SQL("SELECT id FROM {} WHERE ({}){}").format(
            sql.Identifier(reference.table.schema, reference.table.name), matches, deleted), {"v": wanted}).fetchall()
        values[model_field] = 0
        label = reference.column
        if not found:
            row.problems.append(f"{label} {wanted!r} is unknown: no such {reference.table.name.rstrip('s')} in the "
                                f"registry (it must exist already or come earlier in the same file)")
        elif len(found) > 1:
            row.problems.append(f"{label} {wanted!r} matches {len(found)} {reference.table.name}: use an external id")
        else:
            values[model_field] = found[0][0]


def file_keys(policy: EditPolicy, item) -> Iterator[tuple]:
    """Keys that must be unique within one file, each led by how a message names it (the database and the edit
    engine check against existing rows)."""
    for column in unique_columns(policy.table):
        value = getattr(item, column, None)
        if value is not None:
            yield (f"{column} {value!r}", value)
    if policy.file_keys is not None:
        yield from policy.file_keys(item)


def describe_validation(exc: RegistryError, policy: EditPolicy) -> list[str]:
    """A file speaks of columns where the API speaks of properties."""
    known = ", ".join(sorted(allowed_columns(policy)))
    return [f"unknown column {p.split(':')[0]!r}; known columns: {known}" if "Extra inputs are not permitted" in p
            else p for p in exc.problems]
