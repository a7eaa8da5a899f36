"""The one SQL builder for OGC API - Features items: every value is a bound parameter, every name an Identifier.

Input is an `ItemsQuery` already parsed from HTTP (filters arrive as CQL2-JSON, whatever language the client
used); output is a `psycopg.sql.Composed` plus its parameters. Features are serialised to GeoJSON by PostgreSQL
itself (one text per page), so a page of 1,000 features never becomes 1,000 Python dicts.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from psycopg import sql
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from pyproj.exceptions import ProjError
from shapely.geometry import shape

from layers.layer import Layer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
STORAGE_SRID = 4326  # every published geometry column is EPSG:4326 in PostGIS (x = longitude)


class QueryError(ValueError):
    """A request the builder cannot honour: the API answers it with 400 and this text."""

    def __init__(self, title: str, detail: str):
        super().__init__(detail)
        self.title, self.detail = title, detail


# ---------------------------------------------------------------- coordinate reference systems
@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    flip: bool  # the CRS's first axis is northing/latitude: PostGIS (x, y) must be swapped on the wire
    decimals: int  # GeoJSON precision: ~1 cm in degrees (7) or 1 mm in metres (3)
    bounds: tuple[float, float, float, float] | None  # area of use in lon/lat, for sanity checks


@cache
def _crs(uri: str, srid: int) -> Crs:
    proj = ProjCRS.from_string("OGC:CRS84") if uri == CRS84 else ProjCRS.from_epsg(srid)
    flip = proj.axis_info[0].direction in ("north", "south")
    decimals = 7 if proj.is_geographic else 3
    return Crs(uri, srid, flip, decimals, proj.area_of_use.bounds if proj.area_of_use else None)


SUPPORTED_CRS: tuple[str, ...] = (CRS84, EPSG + "4326", EPSG + "3857", EPSG + "22185")


def crs_by_uri(uri: str | None, parameter: str = "crs") -> Crs:
    """`None` means CRS84. Accepts the OGC URI and the `EPSG:n` / `[EPSG:n]` shorthands clients send."""
    if uri is None or uri == "":
        return _crs(CRS84, STORAGE_SRID)
    text = uri.strip().strip("[]")
    if text.upper() in ("CRS84", "OGC:CRS84"):
        text = CRS84
    elif text.upper().startswith("EPSG:"):
        text = EPSG + text[5:]
    elif text.startswith("http://www.opengis.net/def/crs/EPSG/") and "/" in text:
        text = EPSG + text.rsplit("/", 1)[-1]
    if text not in SUPPORTED_CRS:
        raise QueryError(f"Unsupported {parameter}", f"{parameter} must be one of: {', '.join(SUPPORTED_CRS)}")
    return _crs(text, STORAGE_SRID if text == CRS84 else int(text.rsplit("/", 1)[-1]))


def _to_storage(geometry: sql.Composable, crs: Crs) -> sql.Composable:
    """A geometry expression given in `crs` (wire axis order) → EPSG:4326 with x = longitude."""
    if crs.flip:
        geometry = sql.SQL("ST_FlipCoordinates({})").format(geometry)
    geometry = sql.SQL("ST_SetSRID({}, {})").format(geometry, sql.Literal(crs.srid))
    if crs.srid != STORAGE_SRID:
        geometry = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(STORAGE_SRID))
    return geometry


def _from_storage(column: sql.Composable, crs: Crs) -> sql.Composable:
    if crs.srid != STORAGE_SRID:
        column = sql.SQL("ST_Transform({}, {})").format(column, sql.Literal(crs.srid))
    if crs.flip:
        column = sql.SQL("ST_FlipCoordinates({})").format(column)
    return column


def envelope(bbox: tuple[float, ...], crs: Crs, parameter: str = "bbox") -> tuple[sql.Composable, list]:
    """A checked bbox (4 or 6 numbers, wire axis order of `crs`) as a polygon expression in that CRS."""
    if len(bbox) not in (4, 6):
        raise QueryError(f"Invalid {parameter}", f"{parameter} needs 4 numbers (or 6 with heights)")
    if not all(math.isfinite(v) for v in bbox):
        raise QueryError(f"Invalid {parameter}", f"{parameter} values must be finite numbers")
    half = len(bbox) // 2
    lower, upper = bbox[:2], bbox[half:half + 2]
    if crs.flip:
        lower, upper = lower[::-1], upper[::-1]
    (minx, miny), (maxx, maxy) = lower, upper
    if minx > maxx or miny > maxy:
        raise QueryError(f"Invalid {parameter}", f"{parameter} lower corner must be below and left of the upper corner")
    if crs.srid == STORAGE_SRID and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        order = "lat,lon" if crs.flip else "lon,lat"
        raise QueryError(f"Invalid {parameter}", f"{parameter} is outside the valid range of {crs.uri} ({order})")
    if crs.srid != STORAGE_SRID and max(abs(v) for v in (minx, miny, maxx, maxy)) > 4e7:
        raise QueryError(f"Invalid {parameter}", f"{parameter} is outside the valid range of {crs.uri}")
    check_domain(crs, (minx, miny, maxx, maxy), parameter)
    native = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(crs.srid))
    return native, [minx, miny, maxx, maxy]


@cache
def _to_lon_lat(srid: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{srid}", "OGC:CRS84", always_xy=True)


def check_domain(crs: Crs, bounds: tuple[float, float, float, float], parameter: str) -> None:
    """Projected coordinates PROJ cannot take back to longitude and latitude (a transverse Mercator such as
    EPSG:22185 is defined only so far from its meridian) are refused here, not by PostGIS with an error."""
    if crs.srid == STORAGE_SRID:
        return
    try:
        lon_lat = _to_lon_lat(crs.srid).transform_bounds(*bounds, densify_pts=21, errcheck=True)
    except ProjError:
        lon_lat = (math.inf,)
    if not all(math.isfinite(v) for v in lon_lat):
        raise QueryError(f"Invalid {parameter}", f"{parameter} is outside the domain of {crs.uri}: its "
                                                 "coordinates have no longitude and latitude")


def bbox_condition(column: sql.Composable, bbox: tuple[float, ...], crs: Crs) -> tuple[sql.Composable, list]:
    """Features intersecting a bbox given in `crs`, exactly as PostGIS decides it in that CRS.

    A projected rectangle is not a rectangle in lon/lat (its edges curve), so the index is asked with a
    densified, slightly widened copy and the exact test is made in the bbox's own CRS.
    """
    box, values = envelope(bbox, crs)
    if crs.srid == STORAGE_SRID:
        # `&&` lets the GiST index answer first; ST_Intersects then decides exactly.
        return sql.SQL("({g} && {b} AND ST_Intersects({g}, {b}))").format(g=column, b=box), values + values
    step = max(values[2] - values[0], values[3] - values[1], 1.0) / 64
    prefilter = sql.SQL("ST_Expand(ST_Transform(ST_Segmentize({b}, %s), {s}), 0.0005)").format(
        b=box, s=sql.Literal(STORAGE_SRID))
    condition = sql.SQL("({g} && {p} AND ST_Intersects(ST_Transform({g}, {srid}), {b}))").format(
        g=column, p=prefilter, srid=sql.Literal(crs.srid), b=box)
    return condition, values + [step] + values


# ---------------------------------------------------------------- values
def coerce(value, type_: str, name: str):
    """A query-string or CQL2 literal as the Python value of a property's type; QueryError if it is not one."""
    def bad():
        return QueryError("Invalid value", f"{name!r} is of type {type_}; {value!r} is not")

    if isinstance(value, dict) and len(value) == 1 and ("date" in value or "timestamp" in value):
        value = next(iter(value.values()))
    try:
        if type_ == "string":
            if not isinstance(value, str):
                raise bad()
            return value
        if type_ == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise bad()
        if type_ in ("integer", "number"):
            if isinstance(value, bool):
                raise bad()
            number = float(value) if isinstance(value, str) else value
            if not isinstance(number, int | float) or not math.isfinite(number):
                raise bad()
            if type_ == "integer":
                if number != int(number) or abs(number) >= 2**63:
                    raise bad()
                return int(number)
            return float(number)
        if type_ == "date":
            if not isinstance(value, str):
                raise bad()
            return date.fromisoformat(value)
        if type_ == "datetime":
            if isinstance(value, str):
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    raise QueryError("Invalid value", f"{name!r}: give a time zone (e.g. Z or -03:00)")
                return parsed
            raise bad()
        if type_ == "array":
            if isinstance(value, str):
                return [value]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
            raise bad()
    except (TypeError, ValueError) as exc:
        if isinstance(exc, QueryError):
            raise
        raise bad() from None
    raise bad()


def parse_datetime_interval(text: str) -> tuple[datetime | None, datetime | None]:
    """`instant`, `start/end`, `../end`, `start/..` (RFC 3339) → (start, end); open ends are None."""
    parts = text.split("/")
    if len(parts) > 2 or not text:
        raise QueryError("Invalid datetime", "datetime is an RFC 3339 instant or an interval start/end")
    values = []
    for part in parts:
        if part in ("..", ""):
            values.append(None)
            continue
        try:
            if len(part) == 10:
                values.append(datetime.fromisoformat(part + "T00:00:00+00:00"))
            else:
                values.append(coerce(part, "datetime", "datetime"))
        except (QueryError, ValueError):
            raise QueryError("Invalid datetime", f"{part!r} is not an RFC 3339 date-time") from None
    if len(values) == 1:
        return values[0], values[0]
    if values[0] and values[1] and values[0] > values[1]:
        raise QueryError("Invalid datetime", "the interval ends before it starts")
    return values[0], values[1]


# ---------------------------------------------------------------- CQL2 (JSON form) → SQL
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SPATIAL = {"s_intersects": "ST_Intersects", "s_equals": "ST_Equals", "s_disjoint": "ST_Disjoint",
           "s_touches": "ST_Touches", "s_within": "ST_Within", "s_overlaps": "ST_Overlaps",
           "s_crosses": "ST_Crosses", "s_contains": "ST_Contains"}
ARRAYS = {"a_equals": "=", "a_contains": "@>", "a_containedby": "<@", "a_overlaps": "&&"}
GEOMETRY_QUERYABLE = "geometry"
# Limits of a filter tree, checked (without recursion) before it is validated or compiled: the compiler below and
# the `cql2` validation recurse once per level, and validation slows down sharply with depth.
MAX_FILTER_DEPTH = 20  # nested predicates and expressions
MAX_FILTER_NODES = 2_000  # predicates, properties and values (a geometry's coordinates count as one)


def check_filter_tree(tree) -> None:
    """QueryError naming the limit when a CQL2-JSON tree nests deeper or holds more nodes than allowed."""
    stack, nodes = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_FILTER_NODES:
            raise QueryError("Filter too large", f"a filter has at most {MAX_FILTER_NODES} predicates, properties "
                                                 "and values (limit: nodes)")
        if depth > MAX_FILTER_DEPTH:
            raise QueryError("Filter too deep", f"a filter nests at most {MAX_FILTER_DEPTH} levels (limit: depth)")
        if isinstance(node, dict):
            children = [v for k, v in node.items() if k not in ("coordinates", "bbox")]
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
        elif isinstance(node, list):
            # A list (arguments, IN values) is not a level of its own: its items sit at the list's depth.
            stack.extend((child, depth) for child in node if isinstance(child, dict | list))
            nodes += sum(1 for child in node if not isinstance(child, dict | list))


@dataclass
class _Compiler:
    """Compiles a CQL2-JSON tree (from the `cql2` parser, so already syntax-checked) over one layer.

    Hand-written because pygeofilter's and cql2's SQL outputs inline the literal values into the SQL text;
    here every literal is a bound parameter and every property is checked against the layer's queryables.
    """

    layer: Layer
    crs: Crs
    params: list = field(default_factory=list)

    def condition(self, node) -> sql.Composable:
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise QueryError("Invalid filter", f"expected a predicate, found {node!r}")
        op, args = str(node["op"]).lower(), node.get("args", [])
        if op in ("and", "or"):
            parts = [self.condition(a) for a in args]
            return sql.SQL("({})").format(sql.SQL(f" {op.upper()} ").join(parts))
        if op == "not":
            return sql.SQL("(NOT {})").format(self.condition(args[0]))
        if op in COMPARISONS:
            return self.comparison(COMPARISONS[op], *args)
        if op == "like":
            lhs, type_ = self.expression(args[0])
            self.require(type_, "string", "LIKE")
            return sql.SQL("({} LIKE {})").format(lhs, self.operand(args[1], "string", _name(args[0])))
        if op == "between":
            lhs, type_ = self.expression(args[0])
            self.require(type_, ("integer", "number", "date", "datetime"), "BETWEEN")
            name = _name(args[0])
            return sql.SQL("({} BETWEEN {} AND {})").format(lhs, self.operand(args[1], type_, name),
                                                           self.operand(args[2], type_, name))
        if op == "in":
            lhs, type_ = self.expression(args[0])
            if not isinstance(args[1], list) or type_ in ("array", "geometry"):
                raise QueryError("Invalid filter", "IN needs a property and a list of values")
            values = [coerce(v, type_, _name(args[0])) for v in args[1]]
            return sql.SQL("({} = ANY({}))").format(lhs, self.bind(values))
        if op == "isnull":
            lhs, _ = self.expression(args[0])
            return sql.SQL("({} IS NULL)").format(lhs)
        if op in SPATIAL:
            return self.spatial(SPATIAL[op], *args)
        if op in ARRAYS:
            lhs, type_ = self.expression(args[0])
            self.require(type_, "array", op.upper())
            return sql.SQL("({} {} {}::text[])").format(lhs, sql.SQL(ARRAYS[op]),
                                                        self.bind(coerce(args[1], "array", op)))
        raise QueryError("Unsupported filter", f"the operator {node['op']!r} is not supported here; see /conformance")

    def comparison(self, op: str, left, right) -> sql.Composable:
        lhs, type_ = self.expression(left)
        if type_ in ("array", "geometry"):
            raise QueryError("Invalid filter", f"{op} cannot compare a {type_} property; use A_* or S_* functions")
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(op), self.operand(right, type_, _name(left)))

    def spatial(self, function: str, left, right) -> sql.Composable:
        lhs, type_ = self.expression(left)
        self.require(type_, "geometry", function)
        return sql.SQL("{}({}, {})").format(sql.SQL(function), lhs, self.geometry(right))

    def geometry(self, node) -> sql.Composable:
        if isinstance(node, dict) and "bbox" in node:
            box, values = envelope(tuple(float(v) for v in node["bbox"]), self.crs, "filter bbox")
            self.params.extend(values)
            if self.crs.srid == STORAGE_SRID:
                return box
            return sql.SQL("ST_Transform({}, {})").format(box, sql.Literal(STORAGE_SRID))
        if isinstance(node, dict) and "type" in node and "coordinates" in node:
            try:
                checked = shape(node)
            except Exception as exc:  # shapely raises several kinds for malformed coordinates
                raise QueryError("Invalid filter geometry", str(exc)[:200]) from None
            if checked.is_empty or not checked.is_valid:
                raise QueryError("Invalid filter geometry", "the geometry is empty or not valid (self-intersection?)")
            check_domain(self.crs, checked.bounds if not self.crs.flip else _flipped(checked.bounds),
                         "filter geometry")
            return _to_storage(sql.SQL("ST_GeomFromText({})").format(self.bind(checked.wkt)), self.crs)
        raise QueryError("Invalid filter", f"expected a geometry literal, found {node!r}")

    def expression(self, node) -> tuple[sql.Composable, str]:
        if isinstance(node, dict) and "property" in node:
            return self.property(node["property"])
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            argument = node["args"][0]
            if isinstance(argument, str):
                return sql.SQL("lower({})").format(self.bind(argument)), "string"
            inner, type_ = self.expression(argument)
            self.require(type_, "string", "CASEI")
            return sql.SQL("lower({})").format(inner), "string"
        raise QueryError("Unsupported filter", f"the left side must be a queryable property, found {node!r}")

    def operand(self, node, type_: str, name: str) -> sql.Composable:
        """The right-hand side compared with property `name` of type `type_`: a literal or another property."""
        if isinstance(node, dict) and ("property" in node or str(node.get("op", "")).lower() == "casei"):
            other, other_type = self.expression(node)
            if other_type != type_ and {other_type, type_} != {"integer", "number"}:
                raise QueryError("Invalid filter", f"{name!r} ({type_}) cannot be compared with {other_type}")
            return other
        return self.bind(coerce(node, type_, name))

    def property(self, name: str) -> tuple[sql.Composable, str]:
        if name in (GEOMETRY_QUERYABLE, self.layer.geom_column) and self.layer.has_geometry:
            return sql.Identifier(self.layer.geom_column), "geometry"
        if name == "id":
            return sql.Identifier(self.layer.id_column), self.layer.id_type
        prop = self.layer.get_property(name)
        if prop is None or not prop.filterable:
            raise QueryError("Unknown queryable", f"{name!r} is not a queryable of {self.layer.id}; "
                             f"see /collections/{self.layer.id}/queryables")
        return sql.Identifier(prop.name), prop.type

    def bind(self, value) -> sql.Composable:
        self.params.append(value)
        return sql.SQL("%s")

    @staticmethod
    def require(type_: str, allowed, context: str) -> None:
        allowed = (allowed,) if isinstance(allowed, str) else allowed
        if type_ not in allowed:
            raise QueryError("Invalid filter", f"{context} does not apply to a {type_} property")


def _flipped(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Bounds read in a CRS whose first axis is northing: (x, y) order for PROJ."""
    miny, minx, maxy, maxx = bounds
    return minx, miny, maxx, maxy


def _name(node) -> str:
    """The property a CQL2 operand is about (for messages)."""
    if isinstance(node, dict) and "property" in node:
        return str(node["property"])
    if isinstance(node, dict) and node.get("args"):
        return _name(node["args"][0])
    return "value"


# ---------------------------------------------------------------- items
@dataclass
class ItemsQuery:
    limit: int = 100
    offset: int = 0
    bbox: tuple[float, ...] | None = None
    bbox_crs: Crs = field(default_factory=lambda: crs_by_uri(None))
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: dict[str, str] = field(default_factory=dict)
    cql: dict | bool | None = None  # CQL2-JSON
    filter_crs: Crs = field(default_factory=lambda: crs_by_uri(None))
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    properties: list[str] | None = None
    crs: Crs = field(default_factory=lambda: crs_by_uri(None))

    def key(self) -> tuple:
        """What the query asks, as a hashable value: equal keys, equal statements (api/features/pages.py)."""
        cql = None if self.cql is None else json.dumps(self.cql, sort_keys=True, separators=(",", ":"))
        return (self.limit, self.offset, self.bbox, self.bbox_crs.uri, self.interval, tuple(self.equals.items()),
                cql, self.filter_crs.uri, tuple(self.sortby),
                None if self.properties is None else tuple(self.properties), self.crs.uri)

    def selection(self) -> tuple:
        """What chooses and orders the rows (not the page, the properties or the CRS), as a hashable value."""
        return self.key()[2:9]


def _source(layer: Layer) -> sql.Composable:
    return sql.Identifier(*layer.source.split("."))


def _geometry(layer: Layer) -> sql.Composable:
    return sql.Identifier(layer.geom_column) if layer.has_geometry else sql.SQL("NULL::geometry")


def where_clause(layer: Layer, query: ItemsQuery) -> tuple[sql.Composable, list]:
    conditions: list[sql.Composable] = []
    params: list = []
    geom = sql.Identifier(layer.geom_column)
    if query.bbox is not None:
        if not layer.has_geometry:
            raise QueryError("Invalid bbox", f"{layer.id} has no geometry to filter by bbox")
        condition, values = bbox_condition(geom, query.bbox, query.bbox_crs)
        conditions.append(condition)
        params += values
    if query.interval is not None:
        if not layer.datetime_columns:
            raise QueryError("Invalid datetime", f"{layer.id} has no temporal property to filter by datetime")
        start_col, end_col = (sql.Identifier(c) for c in layer.datetime_columns)
        start, end = query.interval
        if end is not None:
            conditions.append(sql.SQL("{} <= %s").format(start_col))
            params.append(end)
        if start is not None:
            conditions.append(sql.SQL("COALESCE({}, {}) >= %s").format(end_col, start_col))
            params.append(start)
    for name, raw in query.equals.items():
        prop = layer.get_property(name)
        if prop is None or not prop.filterable:
            raise QueryError("Unknown parameter", f"{name!r} is not a filterable property of {layer.id}")
        value = coerce(raw, "string" if prop.type == "array" else prop.type, name)
        if prop.enum and value not in prop.enum:
            raise QueryError("Invalid value", f"{name} is one of: {', '.join(prop.enum)}")
        template = "%s = ANY({})" if prop.type == "array" else "{} = %s"
        conditions.append(sql.SQL(template).format(sql.Identifier(prop.name)))
        params.append(value)
    if query.cql is not None:
        check_filter_tree(query.cql)  # the compiler recurses per level: bounded whoever built the tree
        compiler = _Compiler(layer, query.filter_crs)
        conditions.append(compiler.condition(query.cql))
        params += compiler.params
    if not conditions:
        return sql.SQL(""), []
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions), params


def _order_by(layer: Layer, sortby: list[tuple[str, bool]]) -> sql.Composable:
    terms: list[sql.Composable] = []
    for name, descending in sortby:
        if name != "id" and (layer.get_property(name) is None or layer.get_property(name).type in ("array", "object")):
            raise QueryError("Invalid sortby", f"cannot sort {layer.id} by {name!r}")
        column = layer.id_column if name == "id" else name
        direction = sql.SQL("DESC" if descending else "ASC")
        terms.append(sql.SQL("{} {} NULLS LAST").format(sql.Identifier(column), direction))
    for column in [c.strip() for c in layer.order_by.split(",")] + [layer.id_column]:
        terms.append(sql.Identifier(column))  # the layer's order, then the id: pages never overlap
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(terms)


def feature_json(layer: Layer, crs: Crs, properties: list[str] | None) -> sql.Composable:
    """A json expression for one row as a GeoJSON Feature in `crs`."""
    names = layer.property_names if properties is None else properties
    unknown = [n for n in names if layer.get_property(n) is None]
    if unknown:
        raise QueryError("Invalid properties", f"unknown properties: {', '.join(unknown)}")
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names)
    geometry = _from_storage(_geometry(layer), crs)
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, 'geometry', ST_AsGeoJSON({g}, {d})::json, "
        "'properties', json_build_object({pairs}))"
    ).format(id=sql.Identifier(layer.id_column), g=geometry, d=sql.Literal(crs.decimals), pairs=pairs)


def _versions() -> sql.Composable:
    """The data versions of some tables (one parameter: their oids), in their order; NULL for one that has none."""
    return sql.SQL("(SELECT array_agg(v.version ORDER BY t.n) FROM unnest(%s::oid[]) WITH ORDINALITY t(relid, n) "
                   "LEFT JOIN tiles.data_versions v ON v.relid = t.relid)")


def _page_of(layer: Layer, query: ItemsQuery, keys: sql.Composable) -> sql.Composable:
    """The features whose ids `keys` (an array expression) holds, in the items' order, as one text.

    Published views are security barriers: PostgreSQL computes a view whole before it orders and cuts a page, and
    would build every feature of the view for a page of ten. So a page's keys are chosen first, from the id and the
    columns the filters and the order need (no per-row subquery of an unused column is run either), and only the
    page's rows are read again by id: a leakproof condition, which PostgreSQL pushes into the view (an index
    lookup), and the rows then built as GeoJSON. The text goes out as UTF-8 bytes (bytea, read in binary): a page of
    1,000 features is over a megabyte, which the server would otherwise decode and encode again.
    """
    return sql.SQL(
        "SELECT convert_to(COALESCE(string_agg(feature::text, ','), ''), 'UTF8') AS features, count(*) AS returned "
        "FROM (SELECT {f} AS feature FROM {src} WHERE {id} = ANY({keys}){order}) page"
    ).format(f=feature_json(layer, query.crs, query.properties), src=_source(layer),
             id=sql.Identifier(layer.id_column), keys=keys, order=_order_by(layer, query.sortby))


# Output names no layer property takes: ORDER BY reads output names before the source's columns.
_KEY, _ROW = sql.Identifier("page key"), sql.Identifier("page row")


def items_sql(layer: Layer, query: ItemsQuery, tables: tuple[int, ...] = ()) -> tuple[sql.Composable, list]:
    """One row: (features as a JSON array's inner text, how many, how many match the filters, the data versions of
    `tables` or NULL without them). One statement, one snapshot; the count is NULL when the page is past the last
    match (no row carries it)."""
    where, params = where_clause(layer, query)
    page = _page_of(layer, query, sql.SQL("ARRAY(SELECT {} FROM keys)").format(_KEY))
    statement = sql.SQL(
        "WITH keys AS MATERIALIZED (SELECT {id} AS {key}, count(*) OVER () AS matched FROM {src}{where}{order} "
        "LIMIT %s OFFSET %s) "
        "SELECT page.*, (SELECT max(matched) FROM keys), {versions} FROM ({page}) page"
    ).format(id=sql.Identifier(layer.id_column), key=_KEY, src=_source(layer), where=where,
             order=_order_by(layer, query.sortby), page=page,
             versions=_versions() if tables else sql.SQL("NULL::bigint[]"))
    return statement, [*params, query.limit, query.offset, *([list(tables)] if tables else [])]


def selection_sql(layer: Layer, query: ItemsQuery, tables: tuple[int, ...],
                  max_keys: int) -> tuple[sql.Composable, list]:
    """One row: (every id of the selection in the items' order, or NULL past `max_keys` of them; how many; the
    page's features as one text; how many; the data versions of `tables`), all of one snapshot. The ids let the
    selection's other pages be read by id alone (`keyed_page_sql`) while the versions stay the same."""
    where, params = where_clause(layer, query)
    page = _page_of(layer, query, sql.SQL("ARRAY(SELECT {key} FROM keys WHERE {row} > %s AND {row} <= %s)").format(
        key=_KEY, row=_ROW))
    statement = sql.SQL(
        "WITH keys AS MATERIALIZED (SELECT {id} AS {key}, row_number() OVER ({order}) AS {row} FROM {src}{where}), "
        "counted AS (SELECT count(*) AS n FROM keys) "
        "SELECT CASE WHEN counted.n <= %s THEN (SELECT array_agg({key} ORDER BY {row}) FROM keys) END, counted.n, "
        "page.*, {versions} FROM counted, ({page}) page"
    ).format(id=sql.Identifier(layer.id_column), key=_KEY, row=_ROW, order=_order_by(layer, query.sortby),
             src=_source(layer), where=where, versions=_versions(), page=page)
    return statement, [*params, max_keys, list(tables), query.offset, query.offset + query.limit]


def keyed_page_sql(layer: Layer, query: ItemsQuery) -> sql.Composable:
    """One row: (the data versions of some tables, the features of some ids as one text, or NULL when the versions
    differ from the ones given). Parameters: the tables' oids, the versions the ids were read with, the ids."""
    page = _page_of(layer, query, sql.SQL("%s"))
    return sql.SQL(
        "WITH current AS MATERIALIZED (SELECT {versions} AS versions) "
        "SELECT versions, CASE WHEN versions = %s::bigint[] THEN ({features}) END FROM current"
    ).format(versions=_versions(), features=sql.SQL("SELECT page.features FROM ({}) page").format(page))


_STATEMENTS: OrderedDict[tuple, tuple[bytes, list]] = OrderedDict()
MAX_STATEMENTS = 512


def _compiled(kind: str, layer: Layer, query: ItemsQuery, build, page_params: int) -> tuple[bytes, list]:
    """`build()` as the bytes sent to the server, with its filters' parameters (all but the last `page_params`),
    kept per layer and query but for the page's place (limit, offset): composing and quoting cost more than the
    database's work for a small page, and a paging client repeats one selection. Quoted without a connection
    (`as_bytes(None)`): the same bytes for UTF-8 databases with standard_conforming_strings, PostgreSQL's default
    since 9.1."""
    key = (kind, layer.id, query.key()[2:])
    kept = _STATEMENTS.get(key)
    if kept is None:
        statement, params = build()
        kept = _STATEMENTS[key] = (statement.as_bytes(None), params[:len(params) - page_params])
        while len(_STATEMENTS) > MAX_STATEMENTS:
            _STATEMENTS.popitem(last=False)
    return kept


def items_statement(layer: Layer, query: ItemsQuery, tables: tuple[int, ...] = ()) -> tuple[bytes, list]:
    """`items_sql`, compiled once per query (see _compiled)."""
    kind = "items with versions" if tables else "items"
    text, where = _compiled(kind, layer, query, lambda: items_sql(layer, query, tables), 3 if tables else 2)
    return text, [*where, query.limit, query.offset, *([list(tables)] if tables else [])]


def selection_statement(layer: Layer, query: ItemsQuery, tables: tuple[int, ...],
                        max_keys: int) -> tuple[bytes, list]:
    """`selection_sql`, compiled once per query (see _compiled)."""
    text, where = _compiled("selection", layer, query, lambda: selection_sql(layer, query, tables, max_keys), 4)
    return text, [*where, max_keys, list(tables), query.offset, query.offset + query.limit]


def keyed_page_statement(layer: Layer, query: ItemsQuery, tables: tuple[int, ...], versions: tuple[int, ...],
                         ids: list) -> tuple[bytes, list]:
    """`keyed_page_sql` for these ids, read with these versions of `tables`, compiled once per query."""
    text, _ = _compiled("keyed", layer, query, lambda: (keyed_page_sql(layer, query), []), 0)
    return text, [list(tables), list(versions), ids]


def records_sql(layer: Layer, query: ItemsQuery, geometry: bool = False) -> tuple[sql.Composable, list]:
    """One row: a JSON array of plain records (`id`, the properties, and the geometry as GeoJSON when asked), in
    the items' order and with the items' filters: the form tables and reports take (JSON documents, CSV)."""
    names = layer.property_names if query.properties is None else query.properties
    feature_json(layer, query.crs, names)  # refuses unknown property names the same way
    pairs = [sql.SQL("'id', {}").format(sql.Identifier(layer.id_column)),
             *(sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names)]
    if geometry:
        pairs.append(sql.SQL("'geometry', ST_AsGeoJSON({}, {})::json").format(
            _from_storage(_geometry(layer), query.crs), sql.Literal(query.crs.decimals)))
    where, params = where_clause(layer, query)
    inner = (sql.SQL("SELECT json_build_object({}) AS record FROM {}").format(sql.SQL(", ").join(pairs),
                                                                                _source(layer))
             + where + _order_by(layer, query.sortby) + sql.SQL(" LIMIT %s OFFSET %s"))
    statement = sql.SQL("SELECT COALESCE(json_agg(record), '[]'::json) FROM ({}) page").format(inner)
    return statement, params + [query.limit, query.offset]


def download_sql(layer: Layer, query: ItemsQuery, form: str) -> tuple[sql.Composable, list]:
    """Every row the items' filters choose, in the items' order and without a page (read through a server-side
    cursor: api/downloads.py). `form` says what a row is:

    - `feature`: one text, the GeoJSON Feature in `query.crs`, exactly as the items serialise it;
    - `record`: `id`, the properties as one JSON object (values as the items serialise them), then the geometry as
      GeoJSON text in `query.crs` (its wire axis order): what CSV is written from;
    - `wkb`: `id`, the properties, then the geometry as WKB in `query.crs`'s traditional GIS axis order
      (x = longitude or easting), as GeoPackage and FlatGeobuf store it.
    """
    where, params = where_clause(layer, query)
    names = layer.property_names if query.properties is None else query.properties
    if form == "feature":
        columns = sql.SQL("{}::text").format(feature_json(layer, query.crs, query.properties))
    elif form == "record":
        feature_json(layer, query.crs, names)  # refuses unknown property names the same way
        pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names)
        columns = sql.SQL("{}, json_build_object({}), ST_AsGeoJSON({}, {})").format(
            sql.Identifier(layer.id_column), pairs, _from_storage(_geometry(layer), query.crs),
            sql.Literal(query.crs.decimals))
    elif form == "wkb":
        feature_json(layer, query.crs, names)
        geometry = _geometry(layer)
        if query.crs.srid != STORAGE_SRID:
            geometry = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(query.crs.srid))
        columns = sql.SQL(", ").join([sql.Identifier(layer.id_column), *(sql.Identifier(n) for n in names),
                                      sql.SQL("ST_AsBinary({})").format(geometry)])
    else:
        raise ValueError(f"unknown download form {form!r}")
    statement = (sql.SQL("SELECT {} FROM {}").format(columns, _source(layer)) + where
                 + _order_by(layer, query.sortby))
    return statement, params


def count_sql(layer: Layer, query: ItemsQuery) -> tuple[sql.Composable, list]:
    where, params = where_clause(layer, query)
    return sql.SQL("SELECT count(*) FROM {}").format(_source(layer)) + where, params


def item_sql(layer: Layer, feature_id, crs: Crs, properties: list[str] | None = None) -> tuple[sql.Composable, list]:
    """One row: (feature JSON text, version or NULL) — the version makes the ETag of editable layers."""
    version = sql.SQL("version") if layer.editable else sql.SQL("NULL::integer")
    statement = sql.SQL("SELECT {f}::text, {v} FROM {src} WHERE {id} = %s").format(
        f=feature_json(layer, crs, properties), v=version, src=_source(layer), id=sql.Identifier(layer.id_column))
    return statement, [feature_id]


def extent_sql(layer: Layer) -> sql.Composable:
    """Spatial (lon/lat) and, where the layer has one, temporal extent: one row of six values."""
    temporal = sql.SQL("NULL::timestamptz, NULL::timestamptz")
    if layer.datetime_columns:
        start, end = (sql.Identifier(c) for c in layer.datetime_columns)
        temporal = sql.SQL("min({s}), max(COALESCE({e}, {s}))").format(s=start, e=end)
    return sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 "
                   "FROM (SELECT ST_Extent({g}) AS e, {t} FROM {src}) x(e, t0, t1)").format(
        g=_geometry(layer), t=temporal, src=_source(layer))
