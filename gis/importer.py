"""`monitor import FILE`: GeoJSON, CSV (lon/lat or WKT) and GeoPackage files of organizations, instances and
activities, loaded completely or not at all.

Every row is checked and written inside one transaction (each row in its own savepoint, so one refusal does not
hide the next); if any row was refused, the transaction is rolled back and every problem is reported with its
place in the file (CSV: `line N`, the file's line; GeoJSON/GeoPackage: `feature N`, counting from 1).
The rules themselves live in gis.registry and the database; this module reads files, places coordinates
(CRS, swapped axes), resolves references and catches duplicates within the file.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import shapely
from pydantic import ValidationError
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis.db import connect
from gis.registry import (
    ActivityIn,
    InstanceIn,
    OrganizationIn,
    RegistryError,
    check_codes,
    insert_activity,
    insert_instance,
    insert_organization,
)

# Dependency order: instances may name an organisation and activities an instance from the same file.
LAYERS = ("organizations", "instances", "activities")
LAYER_NAMES = {"organizations": ("organizations", "organisations", "organizaciones"),
               "instances": ("instances", "instancias"), "activities": ("activities", "actividades", "agenda")}
MODELS = {"organizations": OrganizationIn, "instances": InstanceIn, "activities": ActivityIn}
# Columns that name another record instead of giving its database id.
REFERENCES = {"instances": ("organization",), "activities": ("instance_external_id", "instance")}
LIST_COLUMNS = ("themes", "accessibility")
LON_COLUMNS, LAT_COLUMNS, WKT_COLUMNS = ("lon", "longitude", "lng"), ("lat", "latitude"), ("wkt", "geometry")
# Same box as monitor.in_rosario_bbox(): used here only to recognise swapped axes.
ROSARIO_BBOX = (-60.83, -33.07, -60.58, -32.84)
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


def import_path(url: str, path: str | Path, layer: str | None = None, actor: str = "cli:import") -> dict:
    """Import one file in one transaction; raises ImportRejected (and imports nothing) if any row is bad."""
    path = Path(path)
    tables = read_tables(path, layer)
    problems = [p for t in tables for p in column_problems(t)]
    if problems:
        raise ImportRejected(problems)
    counts: dict[str, int] = {}
    with connect(url, actor=actor) as conn:
        for table in sorted(tables, key=lambda t: LAYERS.index(t.layer)):
            counts[table.layer] = import_table(conn, table, source=f"import:{path.name}", problems=problems)
        if problems:
            raise ImportRejected(problems)  # leaving `connect` by an exception rolls the transaction back
    return {"file": path.name, "imported": counts}


# ---------------------------------------------------------------- reading files

def read_tables(path: Path, layer: str | None) -> list[Table]:
    suffix = path.suffix.lower()
    if layer is not None and layer not in LAYERS:
        raise ImportRejected([f"unknown layer {layer!r}; known layers: {', '.join(LAYERS)}"])
    if suffix == ".gpkg":
        return read_geopackage(path, layer)
    target = layer or layer_from_name(path.stem)
    if suffix in (".geojson", ".json"):
        return [read_geojson(path, target)]
    if suffix == ".csv":
        return [read_csv(path, target)]
    raise ImportRejected([f"unsupported format {suffix!r}: use GeoJSON (.geojson), CSV (.csv) or GeoPackage (.gpkg)"])


def layer_from_name(name: str) -> str:
    lowered = name.lower()
    for layer, names in LAYER_NAMES.items():
        if any(n in lowered for n in names):
            return layer
    raise ImportRejected([f"cannot tell the layer from the file name {name!r}: name the file after one of "
                          f"{', '.join(LAYERS)} or pass --layer"])


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


def read_geopackage(path: Path, layer: str | None) -> list[Table]:
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
        chosen = {target: name for name in available for target, names in LAYER_NAMES.items() if name.lower() in names}
        if not chosen and len(available) == 1:
            chosen = {layer_from_name(path.stem): available[0]}
        if not chosen:
            raise ImportRejected([f"the GeoPackage's layers ({', '.join(available)}) are not named "
                                  f"{', '.join(LAYERS)}: pass --layer"])
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

def column_problems(table: Table) -> list[str]:
    """Unknown columns are reported once for the whole file rather than on every row."""
    if table.columns is None:
        return []
    allowed = allowed_columns(table.layer)
    unknown = sorted(table.columns - allowed)
    if not unknown:
        return []
    return [f"unknown column(s) {', '.join(map(repr, unknown))} for {table.layer}; "
            f"known columns: {', '.join(sorted(allowed))}"]


def allowed_columns(layer: str) -> set[str]:
    # The location comes from the geometry (or lon/lat, WKT), never from a `venue` property.
    return (set(MODELS[layer].model_fields) - {"venue"}) | set(REFERENCES.get(layer, ()))


def import_table(conn: psycopg.Connection, table: Table, source: str, problems: list[str]) -> int:
    transformer = None
    if table.crs is not None and not table.crs.equals(WGS84, ignore_axis_order=True):
        transformer = Transformer.from_crs(table.crs, WGS84, always_xy=True)
    seen: dict[tuple, str] = {}
    imported = 0
    insert = {"organizations": insert_organization, "instances": insert_instance, "activities": insert_activity}
    for row in table.rows:
        item = prepare(conn, table.layer, row, transformer, source)
        if item is not None:
            for key in duplicate_keys(table.layer, item):
                if key in seen:
                    same = f"{key[0]} {key[1]!r}" if key[0] == "external_id" else key[0]
                    row.problems.append(f"duplicate of {seen[key]} (same {same})")
                    break
            else:
                for key in duplicate_keys(table.layer, item):
                    seen[key] = row.where
                try:
                    insert[table.layer](conn, item)
                    imported += 1
                except RegistryError as exc:
                    row.problems.append(exc.message)
        problems.extend(f"{row.where}: {p}" for p in row.problems)
    return imported


def prepare(conn: psycopg.Connection, layer: str, row: Row, transformer: Transformer | None, source: str):
    """The row as a validated input model, or None with the reasons added to `row.problems`."""
    values = dict(row.values)
    values.setdefault("source", source)
    for column in LIST_COLUMNS:
        if isinstance(values.get(column), str):
            values[column] = split_list(values[column])
    venue = place(row, transformer, has_venue="venue" in MODELS[layer].model_fields)
    if venue is not None:
        values["venue"] = venue
    resolve_references(conn, layer, values, row)
    if layer == "instances":  # checked here too so that a row's every problem is reported at once
        for catalogue, column in (("instance_kinds", "kind"), ("themes", "themes")):
            codes = values.get(column)
            try:
                check_codes(conn, catalogue, column, [codes] if isinstance(codes, str) else list(codes or []))
            except RegistryError as exc:
                row.problems.append(exc.message)
    try:
        item = MODELS[layer].model_validate(values)
    except ValidationError as exc:
        row.problems.extend(describe_validation(exc, layer))
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


def place(row: Row, transformer: Transformer | None, has_venue: bool) -> dict | None:
    """The row's geometry as a GeoJSON point in EPSG:4326, or None; problems go to the row."""
    geom = row.geometry
    if geom is None:
        return None
    if not has_venue:
        row.problems.append("organizations have no location: leave the geometry empty")
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


def in_rosario_bbox(x: float, y: float) -> bool:
    west, south, east, north = ROSARIO_BBOX
    return west <= x <= east and south <= y <= north


def resolve_references(conn: psycopg.Connection, layer: str, values: dict, row: Row) -> None:
    """Replace `organization` (name or external_id) and `instance_external_id`/`instance` (name) by ids."""
    if layer == "instances" and "organization" in values:
        wanted = str(values.pop("organization"))
        found = conn.execute("SELECT id FROM monitor.organizations WHERE name = %s OR external_id = %s",
                             (wanted, wanted)).fetchall()
        if not found:
            row.problems.append(f"organization {wanted!r} is unknown: it must exist already or be imported "
                                "in the same file (GeoPackage layer 'organizations')")
        else:
            values["organization_id"] = found[0][0]
    if layer == "activities":
        by_external = values.pop("instance_external_id", None)
        by_name = values.pop("instance", None)
        if by_external is not None:
            found = conn.execute("SELECT id FROM monitor.instances WHERE external_id = %s AND deleted_at IS NULL",
                                 (str(by_external),)).fetchall()
            wanted = f"instance_external_id {str(by_external)!r}"
        elif by_name is not None:
            found = conn.execute("SELECT id FROM monitor.instances WHERE lower(name) = lower(%s) "
                                 "AND deleted_at IS NULL", (str(by_name),)).fetchall()
            wanted = f"instance {str(by_name)!r}"
        else:
            if "instance_id" not in values:
                row.problems.append("instance_external_id, instance (name) or instance_id is required")
                values["instance_id"] = 0  # placeholder, as below
            return
        values["instance_id"] = 0  # placeholder while the row is checked further; a row with problems is not written
        if not found:
            row.problems.append(f"{wanted} is unknown: no such instance in the registry")
        elif len(found) > 1:
            row.problems.append(f"{wanted} matches {len(found)} instances: use instance_external_id")
        else:
            values["instance_id"] = found[0][0]


def duplicate_keys(layer: str, item) -> Iterator[tuple]:
    """Keys that must be unique within one file (the database checks against existing rows)."""
    if item.external_id:
        yield ("external_id", item.external_id)
    if layer == "organizations":
        yield ("name", item.name.lower())
    elif layer == "instances":
        venue = tuple(round(c, 6) for c in item.venue.coordinates[:2]) if item.venue else None
        yield ("name, kind and venue", item.name.lower(), item.kind, venue)
    else:
        yield ("instance, title and start", item.instance_id, item.title.lower(), item.starts_at)


def describe_validation(exc: ValidationError, layer: str) -> list[str]:
    messages = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        if error["type"] == "extra_forbidden":
            messages.append(f"unknown column {where!r}; known columns: {', '.join(sorted(allowed_columns(layer)))}")
        elif error["type"] == "missing":
            messages.append(f"{where} is required")
        else:
            text = error["msg"].removeprefix("Value error, ")
            got = error.get("input")
            shown = f" (got {got!r})" if isinstance(got, str | int | float) and error["type"] != "value_error" else ""
            messages.append(f"{where}: {text}{shown}" if where else text)
    return messages
