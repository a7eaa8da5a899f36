"""The one builder of vector tile SQL: every tile (live, cached, PMTiles) comes from `tile_query`.

One statement answers one tile for any set of layers: one bytea column per layer, each an MVT layer
(concatenated MVT layers are a valid MVT tile). The hot path follows the fastest PostGIS tile servers:
`ST_TileEnvelope`, `geom_3857 && envelope` on the stored Web Mercator copy (its GiST index, no per-row
transform), simplification by pixel size, `ST_AsMVTGeom`/`ST_AsMVT` with feature ids, points clustered on a
tile-aligned grid with counts, a hard cap on features per tile, only the layer's tile properties.

Layers with `point_cells` read their clusters from per-cell counts kept on write (tiles.point_cells, migration
0019) rather than grouping every point of the tile: a z10 tile of 200,000 points sums at most 32 × 32 stored cells,
exact because the cells are updated in the writer's transaction. The grid is the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from psycopg.types.numeric import Int4, Int8

from layers.layer import Layer, Property

EXTENT = 4096  # MVT grid units per tile side
POLYGON_BUFFER = 64  # extent units around polygon tiles, so strokes join across tile edges
CLUSTER_CELL = 128  # extent units: low-zoom clusters about 16 screen pixels wide on a 512 px tile
DENSE_CELL = 64  # extent units: a tile above the feature cap clusters points about 8 pixels apart, so that it
#                 holds at most 64 × 64 = MAX_FEATURES clusters and never loses a point to the cap
MAX_FEATURES = 4096  # hard cap per layer per tile (safety net: with ~14 properties this stays under 500 KB)
WORLD = 40075016.685578488  # Web Mercator width in metres
ORIGIN = WORLD / 2  # grid origin: the top-left corner of tile 0/0/0 is (-ORIGIN, ORIGIN)
# Cluster feature ids live above any row id, and below 2^53 so that JavaScript numbers (MapLibre) keep them
# apart: the cell index stays under 2^52 for dense grids up to z19.
CLUSTER_ID_BASE = 1 << 52
# tiles.point_cells (migration 0019): level L is a 2^L × 2^L grid over the world, aligned with the tiles of zoom L,
# so the cells of tile z/x/y at level z + k are the 2^k × 2^k cells numbered from (x·2^k, y·2^k). Kept up to level
# 20; a 128-unit cluster cell of zoom z is a cell of level z + 5, a 64-unit dense cell one of level z + 6. Cells are
# keyed in Morton order (`cell_key`), so those of one tile are one range of keys: [key << 2k, (key + 1) << 2k).
POINT_CELLS = "tiles.point_cells"
POINT_MEMBERS = "tiles.point_members"  # which point is counted in which level-20 cell
POINT_CELLS_MAX_LEVEL = 20
CLUSTER_SHIFT = (EXTENT // CLUSTER_CELL).bit_length() - 1  # 5: 32 × 32 cluster cells per tile
DENSE_SHIFT = (EXTENT // DENSE_CELL).bit_length() - 1  # 6: 64 × 64 dense cells per tile


def pixel_size(z: int) -> float:
    """Metres per extent unit at zoom z: the simplification tolerance."""
    return WORLD / (2**z) / EXTENT


def cell_key(ix: int, iy: int) -> int:
    """The Morton key of cell (ix, iy) as tiles.cell_key computes it: bit i of ix at 2i, bit i of iy at 2i + 1."""
    key = 0
    for bit in range(max(ix.bit_length(), iy.bit_length())):
        key |= ((ix >> bit) & 1) << (2 * bit) | ((iy >> bit) & 1) << (2 * bit + 1)
    return key


def tile_params(z: int, x: int, y: int) -> dict:
    """The parameters of `tile_query`, with fixed SQL types: psycopg sends a plain int as the smallest type that
    holds it (smallint, integer, bigint), and a prepared statement is per parameter types, so tile 0/0 and tile
    1358/2445 of one statement would each be prepared and planned anew on every connection."""
    return {
        "z": Int4(z), "x": Int4(x), "y": Int4(y),
        "cell_key": Int8(cell_key(x, y)),  # the tile's own cell at level z of tiles.point_cells
        "px": pixel_size(z),
        "margin": POLYGON_BUFFER / EXTENT,
        "cell": pixel_size(z) * CLUSTER_CELL,
        "dense_cell": pixel_size(z) * DENSE_CELL,
        "cells_per_side": Int8(2**z * (EXTENT // CLUSTER_CELL)),
        "dense_cells_per_side": Int8(2**z * (EXTENT // DENSE_CELL)),
        "cap": Int4(MAX_FEATURES),
        "cap_probe": Int4(MAX_FEATURES + 1),
    }


def layers_at_zoom(layers: Sequence[Layer], z: int) -> list[Layer]:
    return [layer for layer in layers if layer.minzoom <= z <= layer.maxzoom]


def clustered_at(layer: Layer, z: int) -> bool:
    return layer.geometry_type == "Point" and layer.cluster_below_zoom is not None and z < layer.cluster_below_zoom


def _property(prop: Property, alias: str) -> sql.Composable:
    column = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(prop.name))
    if prop.type == "array":  # MVT values are scalars: arrays travel as comma-separated text
        column = sql.SQL("array_to_string({}, ',')").format(column)
    elif prop.type in ("date", "datetime"):  # ISO 8601, as in the feature API
        column = sql.SQL("(to_json({}) #>> '{{}}')").format(column)
    return sql.SQL("{} AS {}").format(column, sql.Identifier(prop.name))


def _properties(layer: Layer, alias: str) -> list[sql.Composable]:
    props = [_property(p, alias) for p in layer.properties if p.in_tiles]
    if layer.id_type != "integer":  # MVT ids are integers: other ids travel as the `id` property
        props.insert(0, sql.SQL("{}.{}::text AS id").format(sql.Identifier(alias), sql.Identifier(layer.id_column)))
    return props


def _feature_id(layer: Layer, alias: str) -> list[sql.Composable]:
    if layer.id_type != "integer":
        return []
    return [sql.SQL("{}.{}::bigint AS _mvt_id").format(sql.Identifier(alias), sql.Identifier(layer.id_column))]


def _source(layer: Layer) -> sql.Composable:
    schema, _, name = layer.source.rpartition(".")
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


def _where(layer: Layer, alias: str, box: str) -> sql.Composable:
    """The index filter on the stored Web Mercator copy, plus the layer's zoom filter."""
    envelope = {
        "tile": "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)",
        "search": "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s)",
    }[box]
    condition = sql.SQL("{}.{} && " + envelope).format(sql.Identifier(alias), sql.Identifier(layer.mercator_column))
    if layer.zoom_filter:
        condition = sql.SQL("{} AND ({})").format(condition, sql.SQL(layer.zoom_filter).format(z=sql.Placeholder("z")))
    return condition


def _encode(layer: Layer, rows: sql.Composable) -> sql.Composable:
    """Wrap a row source with columns (_mvt_id?, properties…, _mvt_geom) into one MVT layer (empty bytea if none)."""
    id_arg = sql.SQL(", '_mvt_id'") if layer.id_type == "integer" else sql.SQL("")
    return sql.SQL(
        "(SELECT coalesce(ST_AsMVT(t, {name}, {extent}, '_mvt_geom'{id_arg}), ''::bytea) "
        "FROM ({rows}) t WHERE t._mvt_geom IS NOT NULL)"
    ).format(name=sql.Literal(layer.id), extent=sql.Literal(EXTENT), id_arg=id_arg, rows=rows)


def _plain_rows(layer: Layer) -> sql.Composable:
    geom = sql.SQL("s.{}").format(sql.Identifier(layer.mercator_column))
    if layer.geometry_type == "Point":
        buffer, box = 0, "tile"  # points belong to exactly one tile: no duplicates across edges
    else:
        buffer, box = POLYGON_BUFFER, "search"
        if layer.simplify:
            geom = sql.SQL("ST_Simplify({}, %(px)s)").format(geom)
    columns = [
        *_feature_id(layer, "s"),
        *_properties(layer, "s"),
        sql.SQL("ST_AsMVTGeom({}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {}, {}, true) AS _mvt_geom").format(
            geom, sql.Literal(EXTENT), sql.Literal(buffer)),
    ]
    return sql.SQL("SELECT {columns} FROM {source} s WHERE {where} LIMIT %(cap)s").format(
        columns=sql.SQL(", ").join(columns), source=_source(layer), where=_where(layer, "s", box))


def _with_lone_points(layer: Layer, grid: sql.Composable, columns: list[sql.Composable], id_column: str
                      ) -> sql.Composable:
    """The rows of a cluster grid `c`, each lone point (n = 1) joined to its row `s` of the layer's view.

    The lone points' rows are read in one pass, by the array of their ids: an id condition that PostgreSQL pushes
    into the security-barrier view (a primary-key lookup per id) while the view's own joins run once, not once per
    cell as a LATERAL probe does (~30 % of a z10–z12 tile of the demo registry). Nothing here lets the planner
    scan the whole view once per cell, as a plain join might when the table has just grown (seen once: 24 s for
    5,000 fresh rows, against 50 ms).
    """
    one_id = sql.Identifier(id_column)
    return sql.SQL(
        "WITH c AS MATERIALIZED ({grid}) SELECT {columns} FROM c LEFT JOIN "
        "(SELECT * FROM {source} one WHERE one.{ident} = ANY (ARRAY(SELECT c.{one_id} FROM c WHERE c.n = 1))) s "
        "ON c.n = 1 AND s.{ident} = c.{one_id}"
    ).format(grid=grid, columns=sql.SQL(", ").join(columns), source=_source(layer),
             ident=sql.Identifier(layer.id_column), one_id=one_id)


def _cluster_rows(layer: Layer, cell: str) -> sql.Composable:
    """Points grouped on a grid aligned with tile edges (a cell never straddles two tiles, so each point is
    counted in exactly one tile). A lone point keeps its id and properties; a cluster has `point_count`."""
    merc = sql.Identifier(layer.mercator_column)
    ident = sql.Identifier(layer.id_column)
    per_side = "%(cells_per_side)s" if cell == "cell" else "%(dense_cells_per_side)s"
    grid = sql.SQL(
        "SELECT count(*)::integer AS n, min(p.{ident}) AS one_id, "
        "avg(ST_X(p.{merc})) AS cx, avg(ST_Y(p.{merc})) AS cy, "
        "floor((ST_X(p.{merc}) + {origin}) / %({cell})s)::bigint AS ix, "
        "floor(({origin} - ST_Y(p.{merc})) / %({cell})s)::bigint AS iy "
        "FROM {source} p WHERE {where} GROUP BY ix, iy LIMIT %(cap)s"
    ).format(ident=ident, merc=merc, origin=sql.Literal(ORIGIN), cell=sql.SQL(cell), source=_source(layer),
             where=_where(layer, "p", "tile"))
    columns = []
    if layer.id_type == "integer":
        columns.append(sql.SQL(
            "CASE WHEN c.n = 1 THEN c.one_id::bigint ELSE {base} + c.iy * " + per_side + " + c.ix END AS _mvt_id"
        ).format(base=sql.Literal(CLUSTER_ID_BASE)))
    columns += [
        sql.SQL("c.n AS point_count"),
        *_properties(layer, "s"),
        sql.SQL("ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(c.cx, c.cy), 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), "
                "{}, 0, true) AS _mvt_geom").format(sql.Literal(EXTENT)),
    ]
    return _with_lone_points(layer, grid, columns, "one_id")


def _cells_of_tile(layer: Layer, level: int, z: int, alias: str = "c") -> sql.Composable:
    """The condition selecting the stored cells (or members, at level 20) of `layer` at `level` in tile z/x/y:
    one range of Morton keys."""
    shift = sql.Literal(2 * (level - z))
    return sql.SQL(
        "{a}.source = {source} {level}AND {a}.key >= %(cell_key)s::bigint << {shift} "
        "AND {a}.key < (%(cell_key)s::bigint + 1) << {shift}"
    ).format(a=sql.Identifier(alias), source=sql.Literal(layer.source), shift=shift,
             level=sql.SQL("") if alias == "m" else sql.SQL("AND {}.level = {} ").format(
                 sql.Identifier(alias), sql.Literal(level)))


def _member_rows(layer: Layer, z: int) -> sql.Composable:
    """`_plain_rows` of a point layer with `point_cells`: the ids of the tile's points from tiles.point_members,
    then their rows from the view by primary key. Each point is in exactly one tile, as in the counts."""
    columns = [
        *_feature_id(layer, "s"),
        *_properties(layer, "s"),
        sql.SQL("ST_AsMVTGeom(s.{}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {}, 0, true) AS _mvt_geom").format(
            sql.Identifier(layer.mercator_column), sql.Literal(EXTENT)),
    ]
    ids = sql.SQL("ARRAY(SELECT m.id FROM {members} m WHERE {where})").format(
        members=sql.Identifier(*POINT_MEMBERS.split(".")), where=_cells_of_tile(layer, POINT_CELLS_MAX_LEVEL, z, "m"))
    return sql.SQL("SELECT {columns} FROM {source} s WHERE s.{ident} = ANY ({ids}) LIMIT %(cap)s").format(
        columns=sql.SQL(", ").join(columns), source=_source(layer), ident=sql.Identifier(layer.id_column), ids=ids)


def _stored_cluster_rows(layer: Layer, z: int, shift: int) -> sql.Composable:
    """`_cluster_rows` from tiles.point_cells: the same grid, counts and ids, without reading the points. A cluster
    sits at the mean of its points (stored as millimetre sums); a lone point is fetched by its id, as live."""
    level = z + shift
    grid = sql.SQL("SELECT c.n, c.sid, c.sx, c.sy, c.ix, c.iy FROM {cells} c WHERE {where} LIMIT %(cap)s").format(
        cells=sql.Identifier(*POINT_CELLS.split(".")), where=_cells_of_tile(layer, level, z))
    centroid = sql.SQL("ST_SetSRID(ST_MakePoint(c.sx::float8 / c.n / 1000, c.sy::float8 / c.n / 1000), 3857)")
    columns = [
        sql.SQL("CASE WHEN c.n = 1 THEN c.sid ELSE {base} + c.iy::bigint * {per_side} + c.ix END AS _mvt_id").format(
            base=sql.Literal(CLUSTER_ID_BASE), per_side=sql.Literal(2**level)),
        sql.SQL("c.n AS point_count"),
        *_properties(layer, "s"),
        sql.SQL("ST_AsMVTGeom(coalesce(s.{merc}, {centroid}), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {extent}, 0, true) "
                "AS _mvt_geom").format(merc=sql.Identifier(layer.mercator_column), centroid=centroid,
                                       extent=sql.Literal(EXTENT)),
    ]
    return _with_lone_points(layer, grid, columns, "sid")


def _uses_point_cells(layer: Layer, level: int) -> bool:
    if not layer.point_cells:
        return False
    if layer.geometry_type != "Point" or layer.id_type != "integer" or layer.zoom_filter:
        raise ValueError(f"layer {layer.id}: point_cells needs integer ids, points and no zoom filter")
    return level <= POINT_CELLS_MAX_LEVEL


def layer_column(layer: Layer, z: int) -> sql.Composable:
    """One MVT layer for tile (z, x, y) as a scalar subquery."""
    if clustered_at(layer, z):
        if _uses_point_cells(layer, z + CLUSTER_SHIFT):
            return _encode(layer, _stored_cluster_rows(layer, z, CLUSTER_SHIFT))
        return _encode(layer, _cluster_rows(layer, "cell"))
    if layer.geometry_type != "Point":
        return _encode(layer, _plain_rows(layer))
    # Too many points for one tile at a zoom that normally shows them all: cluster only points that would
    # overlap on screen, rather than drop features at the cap. The count stops at cap + 1 rows, or is the tile's
    # own stored cell.
    if _uses_point_cells(layer, z):
        probe = sql.SQL("coalesce((SELECT c.n FROM {cells} c WHERE {where}), 0)").format(
            cells=sql.Identifier(*POINT_CELLS.split(".")), where=_cells_of_tile(layer, z, z))
    else:
        probe = sql.SQL("(SELECT count(*) FROM (SELECT 1 FROM {source} s WHERE {where} LIMIT %(cap_probe)s) k)").format(
            source=_source(layer), where=_where(layer, "s", "tile"))
    if _uses_point_cells(layer, z + DENSE_SHIFT):
        dense = _stored_cluster_rows(layer, z, DENSE_SHIFT)
    else:
        dense = _cluster_rows(layer, "dense_cell")
    plain = _member_rows(layer, z) if _uses_point_cells(layer, z) else _plain_rows(layer)
    return sql.SQL("CASE WHEN {probe} > %(cap)s THEN {dense} ELSE {plain} END").format(
        probe=probe, dense=_encode(layer, dense), plain=_encode(layer, plain))


_COLUMNS: dict[tuple[tuple[str, ...], int], tuple[sql.Composable, ...]] = {}  # by layer ids (unique) and zoom


def _columns(layers: Sequence[Layer], z: int) -> tuple[sql.Composable, ...]:
    key = (tuple(layer.id for layer in layers), z)
    if key not in _COLUMNS:
        _COLUMNS[key] = tuple(sql.SQL("{} AS {}").format(layer_column(layer, z), sql.Identifier(layer.id))
                              for layer in layers)
    return _COLUMNS[key]


def tile_query(layers: Sequence[Layer], z: int, extra: sql.Composable | None = None) -> tuple[sql.Composed, list[str]]:
    """The statement for tile z/x/y (parameters from `tile_params`) and the layer ids of its columns, in order.

    Layers outside their zoom range are left out. `extra`, if given, is selected first (in the same snapshot).
    """
    active = layers_at_zoom(layers, z)
    columns = [*([extra] if extra is not None else []), *_columns(active, z)] or [sql.SQL("NULL")]
    return sql.SQL("SELECT {}").format(sql.SQL(", ").join(columns)), [layer.id for layer in active]
