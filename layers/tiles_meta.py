"""What a tile client is told about the layers (TileJSON / PMTiles `vector_layers`) and where their data lies."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from layers.layer import Layer

FIELD_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}  # everything else travels as text
WORLD_BOUNDS = [-180.0, -85.051129, 180.0, 85.051129]


def vector_layer(layer: Layer) -> dict:
    """The TileJSON 3.0 `vector_layers` entry of a layer: the fields its tiles carry."""
    fields = {p.name: FIELD_TYPES.get(p.type, "String") for p in layer.properties if p.in_tiles}
    if layer.id_type != "integer":
        fields = {"id": "String", **fields}
    if layer.geometry_type == "Point":  # clusters (at low zoom, or in a too dense tile) carry their size
        fields["point_count"] = "Number"
    entry = {"id": layer.id, "description": layer.title, "minzoom": layer.minzoom, "maxzoom": layer.maxzoom,
             "fields": fields}
    if layer.cluster_below_zoom is not None:
        entry["cluster_below_zoom"] = layer.cluster_below_zoom
    return entry


def attribution(layers: Sequence[Layer]) -> str:
    return "; ".join(dict.fromkeys(layer.attribution for layer in layers if layer.attribution))


def extent_query(layers: Sequence[Layer]) -> sql.Composed:
    """[west, south, east, north] in WGS 84 of all the layers' rows (NULLs when there are none)."""
    parts = [sql.SQL("SELECT ST_Extent({})::geometry AS g FROM {}").format(
        sql.Identifier(layer.geom_column), sql.Identifier(*layer.source.split("."))) for layer in layers]
    return sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                   "(SELECT ST_Extent(g) AS e FROM ({}) u) v").format(sql.SQL(" UNION ALL ").join(parts))


def bounds_from_row(row) -> list[float] | None:
    return None if row is None or row[0] is None else [round(v, 6) for v in row]
